"""Dashboard fixtures: a real SQLite dashboard database and event store, a manual clock,
accounts with known passwords, and an app driven through FastAPI's TestClient."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, sync_playwright

from dagritme.clock import ManualClock
from dagritme.models import (
    Alert,
    AlertType,
    Event,
    Evidence,
    Kind,
    Room,
    Severity,
    Value,
    make_event_id,
)
from dagritme.servers import free_port
from dashboard import accounts
from dashboard.accounts import Role, create_user
from dashboard.app import create_app
from dashboard.config import DashboardConfig
from dashboard.consent import ConsentAction, Scope, record_consent
from dashboard.db import Database
from dashboard.households import create_household
from dashboard.publisher import FeedbackQueue
from store.sqlite import SqliteEventStore
from tests.dashboard.smtp import Inbox, running_inbox

START = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
PASSWORD = "correct horse battery"
TEXT_VERSION = "test-1"


@dataclass
class World:
    clock: ManualClock
    db: Database
    store: SqliteEventStore
    config: DashboardConfig
    publisher: FeedbackQueue
    ids: dict[str, int]


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Production argon2 parameters cost ~100 ms a hash; tests need the logic, not the cost."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def world(tmp_path: Path, clock: ManualClock) -> Iterator[World]:
    """Two households; the nurse may see both, the carer only hh-a's alerts and summary,
    the stranger (a carer) nothing; the admin manages but has no consent."""
    db = Database(tmp_path / "dashboard.sqlite3")
    store = SqliteEventStore(tmp_path / "events.sqlite3")
    config = DashboardConfig(environment="development", database=tmp_path / "dashboard.sqlite3")
    now = clock.now()
    create_household(db, "hh-a", "Mrs Jansen", "Europe/Amsterdam", now)
    create_household(db, "hh-b", "Mr de Vries", "Europe/Amsterdam", now)
    ids: dict[str, int] = {}
    for username, role, household in [
        ("resident-a", Role.RESIDENT, "hh-a"),
        ("resident-b", Role.RESIDENT, "hh-b"),
        ("nurse", Role.NURSE, None),
        ("carer", Role.CARER, None),
        ("stranger", Role.CARER, None),
        ("admin", Role.ADMIN, None),
    ]:
        user = create_user(
            db, username=username, password=PASSWORD, role=role, now=now, household=household
        )
        ids[username] = user.id
    grants = [
        ("hh-a", "nurse", Scope.ALERTS),
        ("hh-a", "nurse", Scope.SUMMARY),
        ("hh-a", "nurse", Scope.TIMELINE),
        ("hh-b", "nurse", Scope.ALERTS),
        ("hh-b", "nurse", Scope.SUMMARY),
        ("hh-a", "carer", Scope.ALERTS),
        ("hh-a", "carer", Scope.SUMMARY),
    ]
    for household, username, scope in grants:
        resident = ids["resident-a" if household == "hh-a" else "resident-b"]
        record_consent(
            db,
            household=household,
            action=ConsentAction.GRANT,
            recorded_by=resident,
            text_version=TEXT_VERSION,
            now=now,
            subject_user_id=ids[username],
            scope=scope,
        )
    yield World(clock, db, store, config, FeedbackQueue(db), ids)
    store.close()
    db.close()


@pytest.fixture
def app_client(world: World) -> Iterator[TestClient]:
    app = create_app(
        world.config,
        db=world.db,
        event_store=world.store,
        clock=world.clock,
        publisher=world.publisher,
    )
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def login(client: TestClient, username: str) -> str:
    """Log in through the API; returns the CSRF token."""
    response = client.post("/api/v1/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    return token


def make_alert(
    household: str = "hh-a",
    alert_id: str = "alert-0001",
    severity: Severity = Severity.URGENT,
    ts: datetime = START,
    **changes: object,
) -> Alert:
    fields: dict[str, object] = {
        "alert_id": alert_id,
        "ts": ts,
        "household": household,
        "type": AlertType.NOT_UP,
        "severity": severity,
        "message": "Usually up by 07:40, on 19 of the last 20 days; no movement yet at 09:15",
        "evidence": Evidence(
            sensors=["M001"], rooms=[Room.BEDROOM], usual="up by 07:40", observed="no movement"
        ),
    }
    fields.update(changes)
    return Alert.model_validate(fields)


def make_events(household: str, start: datetime, days: int) -> list[Event]:
    """A plain rhythm: kitchen at 08:00 and 18:00 UTC, bedroom at 22:00, every day."""
    events: list[Event] = []
    seq = 0
    for day in range(days):
        base = start + timedelta(days=day)
        for hour, sensor, room in [
            (8, "M002", Room.KITCHEN),
            (18, "M002", Room.KITCHEN),
            (22, "M001", Room.BEDROOM),
        ]:
            ts = base.replace(hour=hour, minute=0, second=0, microsecond=0)
            for value in (Value.ON, Value.OFF):
                ts = ts + timedelta(seconds=30)
                events.append(
                    Event(
                        event_id=make_event_id(household, sensor, ts, value.value),
                        household=household,
                        sensor=sensor,
                        kind=Kind.MOTION,
                        room=room,
                        value=value,
                        ts=ts,
                        seq=seq,
                    )
                )
                seq += 1
    return events


@pytest.fixture
def webhook() -> Iterator[tuple[list[dict[str, Any]], int]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("content-length", 0))
            received.append({**json.loads(self.rfile.read(length)), "_path": self.path})
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield received, server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp_inbox() -> Iterator[Inbox]:
    """A real SMTP server on a free loopback port; its mails are kept for the test."""
    yield from running_inbox()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def live_url(world: World) -> Iterator[str]:
    app = create_app(world.config, db=world.db, event_store=world.store, clock=world.clock)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run scripts/install-system-deps.sh")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
