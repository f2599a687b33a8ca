"""The dashboard's own state in SQLite (WAL): accounts, households, consents, access log,
alerts, device and gateway health, the detector's learning status, contacts and notifications.

Raw sensor history is not kept here: it is read through `store.base.EventStore`.
Consent records and the access log are append-only, enforced by triggers, so that even a
bug in the application cannot rewrite who was allowed to see what.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS households (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    tz TEXT NOT NULL,
    created_ts TEXT NOT NULL,
    erased_ts TEXT
);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('resident', 'carer', 'nurse', 'admin')),
    password_hash TEXT NOT NULL,
    language TEXT,
    household TEXT REFERENCES households(id),
    created_ts TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_ts TEXT NOT NULL,
    expires_ts TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS consents (
    id INTEGER PRIMARY KEY,
    household TEXT NOT NULL REFERENCES households(id),
    action TEXT NOT NULL CHECK (action IN ('grant', 'revoke', 'pause', 'resume')),
    subject_user_id INTEGER REFERENCES users(id),
    scope TEXT,
    until_ts TEXT,
    text_version TEXT NOT NULL,
    recorded_by INTEGER NOT NULL REFERENCES users(id),
    ts TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS consents_by_subject ON consents(subject_user_id, household);
CREATE INDEX IF NOT EXISTS consents_by_household ON consents(household);
CREATE TRIGGER IF NOT EXISTS consents_append_only_update BEFORE UPDATE ON consents
BEGIN SELECT RAISE(ABORT, 'consent records are append-only'); END;
CREATE TRIGGER IF NOT EXISTS consents_append_only_delete BEFORE DELETE ON consents
BEGIN SELECT RAISE(ABORT, 'consent records are append-only'); END;
CREATE TABLE IF NOT EXISTS access_log (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    username TEXT NOT NULL,
    role TEXT NOT NULL,
    household TEXT NOT NULL,
    action TEXT NOT NULL,
    on_behalf_of TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS access_log_by_household ON access_log(household, ts);
CREATE TRIGGER IF NOT EXISTS access_log_append_only_update BEFORE UPDATE ON access_log
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS access_log_append_only_delete BEFORE DELETE ON access_log
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TABLE IF NOT EXISTS alerts (
    alert_id TEXT PRIMARY KEY,
    household TEXT NOT NULL,
    ts TEXT NOT NULL,
    type TEXT NOT NULL,
    subtype TEXT,
    severity TEXT NOT NULL,
    message TEXT NOT NULL,
    evidence_json TEXT NOT NULL,
    status TEXT NOT NULL,
    resolved_ts TEXT,
    resolution TEXT,
    ack_by TEXT,
    ack_note TEXT,
    ack_ts TEXT,
    resolved_by TEXT,
    resolution_note TEXT,
    received_ts TEXT NOT NULL,
    updated_ts TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_by_household ON alerts(household, ts);
CREATE INDEX IF NOT EXISTS alerts_open ON alerts(status, household);
CREATE TABLE IF NOT EXISTS device_health (
    household TEXT NOT NULL,
    sensor TEXT NOT NULL,
    ts TEXT NOT NULL,
    availability TEXT NOT NULL,
    battery REAL,
    linkquality INTEGER,
    PRIMARY KEY (household, sensor)
);
CREATE TABLE IF NOT EXISTS gateway_status (
    household TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    ts TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY,
    household TEXT NOT NULL REFERENCES households(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    apprise_url TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    created_ts TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS invites_used (
    nonce TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    ts TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY,
    alert_id TEXT NOT NULL,
    household TEXT NOT NULL,
    contact_id INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_ts TEXT NOT NULL,
    updated_ts TEXT NOT NULL,
    UNIQUE (alert_id, contact_id)
);
CREATE TABLE IF NOT EXISTS data_freshness (
    household TEXT PRIMARY KEY,
    last_event_ts TEXT,
    last_heartbeat_ts TEXT,
    heartbeat_gap_s REAL
);
CREATE TABLE IF NOT EXISTS detector_status (
    household TEXT PRIMARY KEY,
    ts TEXT NOT NULL,
    learning_days_seen INTEGER NOT NULL,
    learning_days_needed INTEGER NOT NULL,
    progress REAL NOT NULL,
    learned INTEGER NOT NULL,
    usual_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback_outbox (
    id INTEGER PRIMARY KEY,
    household TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    created_ts TEXT NOT NULL
);
"""

_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def to_db_ts(ts: datetime) -> str:
    """A fixed-width UTC text form, so that text order is time order."""
    if ts.tzinfo is None:
        raise ValueError("naive datetimes are not stored")
    return ts.astimezone(UTC).strftime(_TS_FORMAT)


def from_db_ts(text: str) -> datetime:
    # fromisoformat is C code and reads the trailing 'Z' as UTC; strptime is ~20x slower.
    return datetime.fromisoformat(text)


def opt_ts(text: str | None) -> datetime | None:
    return from_db_ts(text) if text else None


class Database:
    """One SQLite connection shared by the web threads and the ingest task, behind a lock."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.executescript(SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._conn.execute(sql, params).fetchone()
            return row

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._conn.execute(sql, params)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
