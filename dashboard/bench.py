"""`dagritme bench dashboard --json`: the nurse overview with 1,000 consented households.

Real uvicorn on a loopback port, real SQLite; latency measured from an HTTP client.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from argon2 import PasswordHasher

from dagritme.clock import WallClock
from dagritme.models import Alert, AlertType, Evidence, Severity
from dagritme.servers import free_port
from dashboard import accounts
from dashboard.accounts import Role, create_user
from dashboard.alert_store import set_gateway_status, upsert_alert
from dashboard.app import create_app
from dashboard.bench_notify import measure_alert_to_notification
from dashboard.config import DashboardConfig
from dashboard.consent import ConsentAction, Scope
from dashboard.db import Database, to_db_ts
from dashboard.freshness import FreshnessTracker
from dashboard.households import create_household
from store.sqlite import SqliteEventStore

PASSWORD = "benchmark password"


def _populate(db: Database, households: int) -> None:
    clock = WallClock()
    now = clock.now()
    nurse = create_user(db, username="nurse", password=PASSWORD, role=Role.NURSE, now=now)
    tracker = FreshnessTracker()
    rows = []
    for i in range(households):
        household = f"hh-{i:05d}"
        create_household(db, household, f"Client {i:05d}", "Europe/Amsterdam", now)
        for scope in (Scope.ALERTS, Scope.SUMMARY):
            rows.append(
                (
                    household,
                    ConsentAction.GRANT.value,
                    nurse.id,
                    scope.value,
                    "bench",
                    nurse.id,
                    to_db_ts(now),
                )
            )
        set_gateway_status(db, household, "offline" if i % 50 == 0 else "online", now)
        # Data keeps arriving, except from every 40th household: it stopped two days ago.
        stopped = i % 40 == 7
        tracker.observe_event(household, now - timedelta(days=2 if stopped else 0, minutes=3))
        tracker.observe_heartbeat(household, now - timedelta(days=2 if stopped else 0, minutes=1))
        tracker.observe_heartbeat(household, now - timedelta(days=2 if stopped else 0))
    tracker.flush(db)
    with db.transaction() as conn:
        conn.executemany(
            "INSERT INTO consents (household, action, subject_user_id, scope, text_version,"
            " recorded_by, ts) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    for i in range(0, households, 3):  # a third of the caseload has alerts
        for j in range(3):
            upsert_alert(
                db,
                Alert(
                    alert_id=f"alert-{i:05d}-{j}",
                    ts=now - timedelta(hours=j),
                    household=f"hh-{i:05d}",
                    type=AlertType.INACTIVITY,
                    severity=(Severity.URGENT, Severity.WARNING, Severity.INFO)[(i + j) % 3],
                    message="Usually active in the kitchen by 08:10; no movement since 06:55",
                    evidence=Evidence(sensors=["M003"]),
                ),
                now,
            )


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def measure(args: argparse.Namespace) -> dict[str, Any]:
    quick = bool(getattr(args, "quick", False))
    logging.getLogger("httpx").setLevel(logging.WARNING)
    households = 1000
    requests = 30 if quick else 200
    # Account creation cost is not what is measured here.
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "dashboard.sqlite3")
        store = SqliteEventStore(Path(tmp) / "events.sqlite3")
        _populate(db, households)
        config = DashboardConfig(environment="development", database=Path(tmp) / "d.sqlite3")
        app = create_app(config, db=db, event_store=store, clock=WallClock())
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=port,
                log_level="warning",
                access_log=False,
                lifespan="off",
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                client.post("/api/v1/login", json={"username": "nurse", "password": PASSWORD})
                api = _timed(client, "/api/v1/households", requests, households)
                page = _timed(client, "/", max(10, requests // 4), None)
        finally:
            server.should_exit = True
            thread.join(10)
            store.close()
            db.close()
    notify = measure_alert_to_notification(5 if quick else 20)
    slow_notify = (notify["alert_to_notification_max_ms"] or 1e9) > 2000
    return {
        **notify,
        "households": households,
        "requests": len(api),
        "p50_ms": round(statistics.median(api), 2),
        "p95_ms": round(_percentile(api, 0.95), 2),
        "p99_ms": round(_percentile(api, 0.99), 2),
        "html_requests": len(page),
        "html_p50_ms": round(statistics.median(page), 2),
        "html_p95_ms": round(_percentile(page, 0.95), 2),
        "target_p95_ms": 300,
        "failed": _percentile(api, 0.95) > 300 or _percentile(page, 0.95) > 300 or slow_notify,
    }


def _timed(client: httpx.Client, path: str, count: int, expect_rows: int | None) -> list[float]:
    samples: list[float] = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        if expect_rows is not None and len(response.json()) != expect_rows:
            raise RuntimeError("the overview did not list every household")
    return samples
