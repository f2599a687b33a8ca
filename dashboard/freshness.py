"""Is data still arriving from a household? The last event and gateway heartbeat seen.

A household whose data stops must not stay green. The ingest watches the event and
heartbeat topics (QoS 0: nothing queues for the dashboard while it is down) and keeps the
newest times in memory (`FreshnessTracker`); they are written to SQLite in batches, so that
thousands of events a second cost one small write a second and the overview reads every
household's freshness in one query. `no_data_since` is the pure rule.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from dashboard.config import FreshnessSettings
from dashboard.db import Database, opt_ts, to_db_ts

UPSERT = (
    "INSERT INTO data_freshness (household, last_event_ts, last_heartbeat_ts, heartbeat_gap_s)"
    " VALUES (?, ?, ?, ?) ON CONFLICT (household) DO UPDATE SET"
    " last_event_ts = CASE WHEN excluded.last_event_ts IS NULL THEN last_event_ts"
    "   WHEN last_event_ts IS NULL OR excluded.last_event_ts > last_event_ts"
    "   THEN excluded.last_event_ts ELSE last_event_ts END,"
    " last_heartbeat_ts = CASE WHEN excluded.last_heartbeat_ts IS NULL THEN last_heartbeat_ts"
    "   WHEN last_heartbeat_ts IS NULL OR excluded.last_heartbeat_ts > last_heartbeat_ts"
    "   THEN excluded.last_heartbeat_ts ELSE last_heartbeat_ts END,"
    " heartbeat_gap_s = COALESCE(excluded.heartbeat_gap_s, heartbeat_gap_s)"
)


@dataclass(frozen=True, slots=True)
class Freshness:
    # Any event, a motion sensor switching off included: it shows that data arrives, which
    # is all freshness asks. The household's "last activity" is presence only (see
    # dashboard.status).
    last_event: datetime | None = None
    last_heartbeat: datetime | None = None
    heartbeat_gap_s: float | None = None  # the last interval between two heartbeats


@dataclass(frozen=True, slots=True)
class NoData:
    """Data stopped: `since` is the newest data seen (None: nothing ever arrived)."""

    since: datetime | None


def no_data_since(
    freshness: Freshness | None, created: datetime, now: datetime, settings: FreshnessSettings
) -> NoData | None:
    """None while data arrives; else since when it stopped.

    Stale when no event came within `event_hours` (counted from the household's creation
    when none ever came), or when the last heartbeat is older than `heartbeat_minutes` and
    than `missed_heartbeats` of the gateway's own interval (so an accelerated clock or a
    slow heartbeat setting does not look like an outage). The interval is known once two
    heartbeats were seen; until then only the event rule and the gateway's last will apply.
    """
    if not settings.enabled:
        return None
    fresh = freshness or Freshness()
    newest = max((ts for ts in (fresh.last_event, fresh.last_heartbeat) if ts), default=None)
    event_reference = fresh.last_event or created
    if now - event_reference > timedelta(hours=settings.event_hours):
        return NoData(fresh.last_event)
    # The heartbeat rule needs the gateway's interval, so two heartbeats seen (ever).
    if (
        fresh.last_heartbeat is not None
        and fresh.heartbeat_gap_s is not None
        and settings.heartbeat_minutes is not None
    ):
        bound = max(
            timedelta(minutes=settings.heartbeat_minutes),
            timedelta(seconds=fresh.heartbeat_gap_s * settings.missed_heartbeats),
        )
        if now - fresh.last_heartbeat > bound:
            return NoData(newest)
    return None


def load_freshness(db: Database, household: str | None = None) -> dict[str, Freshness]:
    if household is None:
        rows = db.query("SELECT * FROM data_freshness")
    else:
        rows = db.query("SELECT * FROM data_freshness WHERE household = ?", (household,))
    return {
        row["household"]: Freshness(
            opt_ts(row["last_event_ts"]), opt_ts(row["last_heartbeat_ts"]), row["heartbeat_gap_s"]
        )
        for row in rows
    }


class FreshnessTracker:
    """Newest event and heartbeat per household, in memory until `flush`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[str, datetime] = {}
        self._heartbeats: dict[str, datetime] = {}
        self._gaps: dict[str, float] = {}
        self._dirty: set[str] = set()

    def observe_event(self, household: str, ts: datetime) -> None:
        with self._lock:
            if household not in self._events or ts > self._events[household]:
                self._events[household] = ts
                self._dirty.add(household)

    def observe_heartbeat(self, household: str, ts: datetime) -> None:
        with self._lock:
            previous = self._heartbeats.get(household)
            if previous is not None and ts <= previous:
                return
            if previous is not None:
                self._gaps[household] = (ts - previous).total_seconds()
            self._heartbeats[household] = ts
            self._dirty.add(household)

    def flush(self, db: Database) -> int:
        """Write what changed since the last flush; returns how many households."""
        with self._lock:
            rows = [
                (
                    household,
                    _opt_db_ts(self._events.get(household)),
                    _opt_db_ts(self._heartbeats.get(household)),
                    self._gaps.get(household),
                )
                for household in sorted(self._dirty)
            ]
            self._dirty.clear()
        if rows:
            with db.transaction() as conn:
                conn.executemany(UPSERT, rows)
        return len(rows)


def _opt_db_ts(ts: datetime | None) -> str | None:
    return to_db_ts(ts) if ts is not None else None
