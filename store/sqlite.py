"""The embedded event store: one SQLite file in WAL mode (demo, Raspberry Pi).

Schema: one table `events`, one row per event, keyed by `event_id` so a retried batch
inserts nothing twice. Times are integer microseconds since the epoch, UTC. The store is
safe to share between threads (the dashboard's worker threads, the consumer's writer
thread): every call holds one lock around one connection, which is also what SQLite
serialises on anyway.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from dagritme.models import Event, Kind, Room, Value

from .aggregate import (
    ROOMS,
    Observation,
    check_bucket,
    daily_aggregates,
    day_window,
    require_aware,
)
from .base import ActivityBucket, DailyAggregate, SensorLastSeen, StoreError
from .timestamps import duration_us, from_us, to_us

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY,
    household TEXT NOT NULL,
    sensor TEXT NOT NULL,
    kind TEXT NOT NULL,
    room TEXT NOT NULL,
    value TEXT NOT NULL,
    active INTEGER NOT NULL,
    ts_us INTEGER NOT NULL,
    seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_household_ts ON events (household, ts_us, active, room);
CREATE INDEX IF NOT EXISTS events_household_sensor ON events (household, sensor, ts_us);
"""

INSERT = (
    "INSERT OR IGNORE INTO events "
    "(event_id, household, sensor, kind, room, value, active, ts_us, seq) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
EXPORT_PAGE = 5000


class SqliteEventStore:
    """`EventStore` on one SQLite file; `":memory:"` gives a private in-memory store."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=10
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives process crashes; only an OS crash may lose the
            # last transactions, which the broker's persistent session redelivers anyway.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            # GDPR erasure must not leave the erased rows readable in free pages: deleted
            # content is overwritten with zeros (see `erase`). Deletes are rare (erasure,
            # hourly retention), so the extra writes cost nothing that matters.
            self._conn.execute("PRAGMA secure_delete=ON")
            self._conn.executescript(SCHEMA)
        except sqlite3.Error as err:
            raise StoreError(f"cannot open SQLite event store: {err}") from err
        self._lock = threading.Lock()

    def write(self, events: Sequence[Event]) -> int:
        rows = [
            (
                e.event_id,
                e.household,
                e.sensor,
                e.kind.value,
                e.room.value,
                e.value.value,
                int(e.active),
                to_us(e.ts),
                e.seq,
            )
            for e in events
        ]
        if not rows:
            return 0
        with self._lock:
            try:
                before = self._conn.total_changes
                self._conn.execute("BEGIN")
                self._conn.executemany(INSERT, rows)
                self._conn.execute("COMMIT")
                return self._conn.total_changes - before
            except sqlite3.Error as err:
                self._rollback()
                raise StoreError(f"SQLite write failed: {err}") from err

    def activity(
        self, household: str, start: datetime, end: datetime, bucket: timedelta
    ) -> list[ActivityBucket]:
        start = require_aware(start, "start")
        end = require_aware(end, "end")
        check_bucket(start, end, bucket)
        start_us, bucket_us = to_us(start), duration_us(bucket)
        rows = self._query(
            "SELECT (ts_us - ?) / ? AS b, room, count(*) FROM events "
            "WHERE household = ? AND ts_us >= ? AND ts_us < ? AND active = 1 "
            "GROUP BY b, room ORDER BY b, room",
            (start_us, bucket_us, household, start_us, to_us(end)),
        )
        return [
            ActivityBucket(start=start + bucket * index, room=Room(room), count=count)
            for index, room, count in rows
        ]

    def last_seen(self, household: str) -> list[SensorLastSeen]:
        # SQLite returns the bare columns of the row that holds max(ts_us).
        rows = self._query(
            "SELECT sensor, room, max(ts_us), value FROM events "
            "WHERE household = ? GROUP BY sensor ORDER BY sensor",
            (household,),
        )
        return [
            SensorLastSeen(sensor=sensor, room=Room(room), ts=from_us(ts_us), value=value)
            for sensor, room, ts_us, value in rows
        ]

    def daily(self, household: str, start: date, end: date, tz: str) -> list[DailyAggregate]:
        window = day_window(start, end, tz)
        rows = self._query(
            "SELECT ts_us, room, active FROM events "
            "WHERE household = ? AND ts_us >= ? AND ts_us < ? ORDER BY ts_us",
            (household, to_us(window.start_utc), to_us(window.end_utc)),
        )
        observations = (Observation(ts, ROOMS[room], bool(act)) for ts, room, act in rows)
        return daily_aggregates(observations, start, end, tz)

    def export(self, household: str) -> Iterator[Event]:
        # Paged by (ts, event_id) so a long export never holds the lock or a cursor open.
        after: tuple[int, str] = (-(2**62), "")
        while True:
            rows = self._query(
                "SELECT event_id, household, sensor, kind, room, value, ts_us, seq FROM events "
                "WHERE household = ? AND (ts_us, event_id) > (?, ?) "
                "ORDER BY ts_us, event_id LIMIT ?",
                (household, after[0], after[1], EXPORT_PAGE),
            )
            for event_id, hh, sensor, kind, room, value, ts_us, seq in rows:
                yield Event(
                    event_id=event_id,
                    household=hh,
                    sensor=sensor,
                    kind=Kind(kind),
                    room=Room(room),
                    value=Value(value),
                    ts=from_us(ts_us),
                    seq=seq,
                )
            if len(rows) < EXPORT_PAGE:
                return
            after = (int(rows[-1][6]), str(rows[-1][0]))

    def erase(self, household: str) -> int:
        """Delete a household's events so that they cannot be recovered from the file.

        `secure_delete` zeroes the freed cells and pages, but in WAL mode the zeroed pages
        go to the write-ahead log first, and older frames there may still hold the rows:
        a TRUNCATE checkpoint copies the zeroed pages into the database file and empties
        the log. (Blocks the filesystem itself may keep are for disk encryption to cover.)
        """
        removed = self._delete("DELETE FROM events WHERE household = ?", (household,))
        self._checkpoint_and_truncate_log()
        logger.info("erased %d events of one household", removed)
        return removed

    def apply_retention(self, older_than: datetime) -> int:
        cutoff = to_us(require_aware(older_than, "older_than"))
        removed = self._delete("DELETE FROM events WHERE ts_us < ?", (cutoff,))
        if removed:
            logger.info("retention removed %d events", removed)
        return removed

    def count(self, household: str | None = None) -> int:
        """How many events are stored (for one household, or in all)."""
        if household is None:
            rows = self._query("SELECT count(*) FROM events", ())
        else:
            rows = self._query("SELECT count(*) FROM events WHERE household = ?", (household,))
        return int(rows[0][0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _query(self, sql: str, params: tuple[object, ...]) -> list[Any]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as err:
                raise StoreError(f"SQLite query failed: {err}") from err

    def _delete(self, sql: str, params: tuple[object, ...]) -> int:
        with self._lock:
            try:
                cursor = self._conn.execute(sql, params)
                return cursor.rowcount
            except sqlite3.Error as err:
                raise StoreError(f"SQLite delete failed: {err}") from err

    def _checkpoint_and_truncate_log(self) -> None:
        if self.path == ":memory:":
            return
        with self._lock:
            try:
                busy, _, _ = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            except sqlite3.Error as err:
                raise StoreError(f"SQLite checkpoint after erasure failed: {err}") from err
        if busy:
            # Another connection is reading: the log is emptied at its next checkpoint.
            logger.warning("erasure checkpoint incomplete: another reader holds the log")

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.rollback()
