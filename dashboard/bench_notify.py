"""Latency from an alert on the broker to the carer's notification (webhook received).

Real mosquitto, the real service (ingest + notifier), a real local webhook receiver.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from dagritme import topics
from dagritme.clock import WallClock
from dagritme.models import Alert, AlertType, Severity, payload_json
from dagritme.mqtt import BrokerSettings, make_client
from dagritme.servers import MosquittoServer
from dashboard.accounts import Role, create_user
from dashboard.config import DashboardConfig, HttpSettings, NotificationSettings
from dashboard.consent import ConsentAction, Scope, record_consent
from dashboard.db import Database
from dashboard.households import create_household
from dashboard.notify import add_contact
from dashboard.service import DashboardService
from store.sqlite import SqliteEventStore

HOUSEHOLD = "hh-bench"


class _Receiver:
    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
                with receiver.changed:
                    receiver.arrivals[str(body.get("message", ""))] = time.perf_counter()
                    receiver.changed.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port: int = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, key: str, timeout: float) -> float | None:
        with self.changed:
            self.changed.wait_for(lambda: any(key in m for m in self.arrivals), timeout)
            return next((t for m, t in self.arrivals.items() if key in m), None)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _prepare(db: Database, hook_port: int) -> None:
    now = WallClock().now()
    create_household(db, HOUSEHOLD, "Bench", "Europe/Amsterdam", now)
    resident = create_user(
        db,
        username="resident",
        password="bench password",
        role=Role.RESIDENT,
        now=now,
        household=HOUSEHOLD,
    )
    carer = create_user(db, username="carer", password="bench password", role=Role.CARER, now=now)
    record_consent(
        db,
        household=HOUSEHOLD,
        action=ConsentAction.GRANT,
        recorded_by=resident.id,
        text_version="bench",
        now=now,
        subject_user_id=carer.id,
        scope=Scope.ALERTS,
    )
    add_contact(db, HOUSEHOLD, carer.id, f"json://127.0.0.1:{hook_port}/", now)


async def _run(broker: BrokerSettings, tmp: Path, samples: int, receiver: _Receiver) -> list[float]:
    db = Database(tmp / "dashboard.sqlite3")
    store = SqliteEventStore(tmp / "events.sqlite3")
    _prepare(db, receiver.port)
    config = DashboardConfig(
        environment="development",
        broker=broker,
        database=tmp / "dashboard.sqlite3",
        http=HttpSettings(port=0),
        notifications=NotificationSettings(daily_summary_hour=None),
    )
    service = DashboardService(config, store, WallClock(), db=db)
    runner = asyncio.create_task(service.run())
    latencies: list[float] = []
    try:
        async with asyncio.timeout(15):
            await service.wait_started()
        async with make_client(broker) as client:
            for n in range(samples):
                marker = f"bench-{n:04d}"
                alert = Alert(
                    alert_id=f"alert-{marker}",
                    ts=WallClock().now() - timedelta(seconds=1),
                    household=HOUSEHOLD,
                    type=AlertType.NIGHT_DOOR,
                    severity=Severity.URGENT,
                    message=f"The front door opened at 03:12; usually closed at night ({marker})",
                )
                started = time.perf_counter()
                await client.publish(topics.alerts(HOUSEHOLD), payload_json(alert), qos=1)
                arrived = await asyncio.to_thread(receiver.wait, marker, 10.0)
                if arrived is not None:
                    latencies.append((arrived - started) * 1000)
    finally:
        service.stop()
        await asyncio.wait_for(runner, 15)
        store.close()
        db.close()
    return latencies


def measure_alert_to_notification(samples: int) -> dict[str, Any]:
    broker_server = MosquittoServer().start()
    receiver = _Receiver()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            latencies = asyncio.run(
                _run(BrokerSettings(url=broker_server.url), Path(tmp), samples, receiver)
            )
    finally:
        receiver.close()
        broker_server.close()
    ordered = sorted(latencies)
    return {
        "alert_to_notification_samples": samples,
        "alert_to_notification_lost": samples - len(latencies),
        "alert_to_notification_p50_ms": round(ordered[len(ordered) // 2], 2) if ordered else None,
        "alert_to_notification_max_ms": round(ordered[-1], 2) if ordered else None,
    }
