"""The persistent store-and-forward queue (SQLite in WAL mode).

An outgoing message is committed here before the home broker's message is acknowledged and
deleted only after the central broker's PUBACK, so neither a broker outage, a SIGKILL nor a
power cut loses it (with `synchronous=full`, a committed row survives power loss). The
device states and the event sequence counter are committed in the same transaction, so
after a restart the gateway neither repeats a change it already queued nor reuses a `seq`.

Disk use is bounded by `max_rows`: beyond it the oldest rows are dropped, counted (the
counter survives restarts) and logged; a warning is logged when the queue passes 80%.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from dagritme.models import Value
from gateway.normaliser import SensorState

logger = logging.getLogger(__name__)

HIGH_WATER = 0.8
LOW_WATER = 0.5

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS device_state (
    sensor TEXT PRIMARY KEY,
    value TEXT,
    ts TEXT
);
CREATE TABLE IF NOT EXISTS day_counts (
    day TEXT NOT NULL,
    room TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (day, room)
);
"""


class OutboxError(RuntimeError):
    """The queue file cannot be read or written."""


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    topic: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    id: int
    topic: str
    payload: bytes


class Outbox:
    def __init__(self, path: Path, *, max_rows: int = 500_000, synchronous: str = "full") -> None:
        if synchronous not in ("full", "normal"):
            raise ValueError("synchronous must be 'full' or 'normal'")
        self.path = path
        self.max_rows = max_rows
        self._synchronous = synchronous.upper()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT).
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={self._synchronous}")
            self._db.executescript(_SCHEMA)
            self.count = int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
            self.dropped = self._meta("dropped")
            self.next_seq = self._meta("next_seq")
        except sqlite3.Error as err:
            raise OutboxError(f"cannot open queue {path}: {err}") from err
        self._warned_high = False
        if self.count:
            logger.info("queue holds %d message(s) from before the restart", self.count)

    def _meta(self, key: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def load_states(self) -> dict[str, SensorState]:
        try:
            rows = self._db.execute("SELECT sensor, value, ts FROM device_state").fetchall()
        except sqlite3.Error as err:
            raise OutboxError(f"cannot read device states: {err}") from err
        return {
            sensor: SensorState(
                Value(value) if value else None, datetime.fromisoformat(ts) if ts else None
            )
            for sensor, value, ts in rows
        }

    def load_day_counts(self) -> dict[date, dict[str, int]]:
        """The persisted counts of days whose daily summary has not been queued yet."""
        try:
            rows = self._db.execute("SELECT day, room, count FROM day_counts").fetchall()
        except sqlite3.Error as err:
            raise OutboxError(f"cannot read day counts: {err}") from err
        counts: dict[date, dict[str, int]] = {}
        for day, room, count in rows:
            counts.setdefault(date.fromisoformat(day), {})[room] = int(count)
        return counts

    def commit(
        self,
        messages: Sequence[OutgoingMessage],
        states: Mapping[str, SensorState] | None = None,
        next_seq: int | None = None,
        day_counts: Mapping[date, Mapping[str, int]] | None = None,
        finished_days: Sequence[date] = (),
    ) -> None:
        """Queue `messages` and persist `states`, `next_seq` and the open days' counts (and
        forget `finished_days`, whose summaries are among `messages`), in one transaction."""
        states = states or {}
        day_counts = day_counts or {}
        if (
            not messages
            and not states
            and not day_counts
            and not finished_days
            and next_seq in (None, self.next_seq)
        ):
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO outbox (topic, payload) VALUES (?, ?)",
                    [(message.topic, message.payload) for message in messages],
                )
                self._db.executemany(
                    "INSERT OR REPLACE INTO device_state (sensor, value, ts) VALUES (?, ?, ?)",
                    [
                        (
                            sensor,
                            state.value.value if state.value else None,
                            state.ts.isoformat() if state.ts else None,
                        )
                        for sensor, state in states.items()
                    ],
                )
                if next_seq is not None:
                    self._set_meta("next_seq", next_seq)
                self._db.executemany(
                    "INSERT OR REPLACE INTO day_counts (day, room, count) VALUES (?, ?, ?)",
                    [
                        (day.isoformat(), room, count)
                        for day, rooms in day_counts.items()
                        for room, count in rooms.items()
                    ],
                )
                self._db.executemany(
                    "DELETE FROM day_counts WHERE day = ?",
                    [(day.isoformat(),) for day in finished_days],
                )
                excess = self.count + len(messages) - self.max_rows
                if excess > 0:
                    self._db.execute(
                        "DELETE FROM outbox WHERE id IN "
                        "(SELECT id FROM outbox ORDER BY id LIMIT ?)",
                        (excess,),
                    )
                    self._set_meta("dropped", self.dropped + excess)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as err:
            raise OutboxError(f"cannot write to queue {self.path}: {err}") from err
        if next_seq is not None:
            self.next_seq = next_seq
        self.count += len(messages)
        if excess > 0:
            self.count -= excess
            self.dropped += excess
            logger.error(
                "queue full (%d rows): dropped the %d oldest message(s), %d in total",
                self.max_rows,
                excess,
                self.dropped,
            )
        self._check_water_marks()

    def _set_meta(self, key: str, value: int) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def _check_water_marks(self) -> None:
        if not self._warned_high and self.count >= HIGH_WATER * self.max_rows:
            self._warned_high = True
            logger.warning(
                "queue is %d%% full (%d of %d rows): is the central broker reachable?",
                round(100 * self.count / self.max_rows),
                self.count,
                self.max_rows,
            )
        elif self._warned_high and self.count <= LOW_WATER * self.max_rows:
            self._warned_high = False
            logger.info("queue back below %d%% (%d rows)", round(100 * LOW_WATER), self.count)

    def peek(self, limit: int, after_id: int = 0) -> list[QueuedMessage]:
        """The oldest queued messages with id > `after_id`, in order."""
        try:
            rows = self._db.execute(
                "SELECT id, topic, payload FROM outbox WHERE id > ? ORDER BY id LIMIT ?",
                (after_id, limit),
            ).fetchall()
        except sqlite3.Error as err:
            raise OutboxError(f"cannot read queue {self.path}: {err}") from err
        return [QueuedMessage(row[0], row[1], bytes(row[2])) for row in rows]

    def delete(self, ids: Iterable[int]) -> None:
        """Forget messages the central broker has acknowledged.

        Without an fsync of its own: a delete lost in a power cut only means a resend (same
        `event_id`), and the next queue commit's fsync of the WAL makes it durable anyway.
        """
        keys = [(key,) for key in ids]
        if not keys:
            return
        try:
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("BEGIN IMMEDIATE")
            try:
                before = self._db.total_changes
                self._db.executemany("DELETE FROM outbox WHERE id = ?", keys)
                removed = self._db.total_changes - before
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            finally:
                self._db.execute(f"PRAGMA synchronous={self._synchronous}")
        except sqlite3.Error as err:
            raise OutboxError(f"cannot delete from queue {self.path}: {err}") from err
        self.count -= removed
        self._check_water_marks()

    def close(self) -> None:
        self._db.close()
