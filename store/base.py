"""The one interface to raw sensor history, whichever backend holds it.

Backends: `store.sqlite.SqliteEventStore` (embedded default: demo, Raspberry Pi) and
`store.influx.InfluxEventStore` (deployments, InfluxDB v1 HTTP API). The dashboard reads
history only through this protocol.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol, runtime_checkable

from dagritme.models import Event, Room


class StoreError(RuntimeError):
    """The backend failed; the message says which and why."""


@dataclass(frozen=True, slots=True)
class ActivityBucket:
    """Count of presence events (motion on, contact on, door open) in one room and time bucket."""

    start: datetime  # UTC, bucket start
    room: Room
    count: int


@dataclass(frozen=True, slots=True)
class SensorLastSeen:
    sensor: str
    room: Room
    ts: datetime  # UTC
    value: str


@dataclass(frozen=True, slots=True)
class DailyAggregate:
    """Per local day: what trends are built from."""

    day: date  # local date of the home
    events: int  # every event of the day, presence or not
    by_room: dict[Room, int]  # presence events only, as in ActivityBucket
    first_activity: datetime | None  # UTC, first presence event of the day
    last_activity: datetime | None  # UTC, last presence event of the day
    night_toilet_visits: int  # bathroom/toilet presence episodes between 00:00 and 06:00 local


@runtime_checkable
class EventStore(Protocol):
    def write(self, events: Sequence[Event]) -> int:
        """Write a batch; idempotent by event_id. Returns how many were new (or accepted)."""
        ...

    def activity(
        self, household: str, start: datetime, end: datetime, bucket: timedelta
    ) -> list[ActivityBucket]:
        """Presence counts by room and time bucket in [start, end).

        Buckets are aligned to `start` (not to the epoch); only non-empty buckets are
        returned, ordered by start then room. Naive datetimes are refused (ValueError).
        """
        ...

    def last_seen(self, household: str) -> list[SensorLastSeen]:
        """The latest event of every sensor of a household."""
        ...

    def daily(self, household: str, start: date, end: date, tz: str) -> list[DailyAggregate]:
        """Daily aggregates for local days in [start, end) in time zone `tz`.

        One aggregate per day, days without events included (with zero counts).
        """
        ...

    def export(self, household: str) -> Iterator[Event]:
        """Every stored event of a household, in time order (GDPR export)."""
        ...

    def erase(self, household: str) -> int:
        """Delete every event of a household (GDPR erasure); returns how many were removed."""
        ...

    def apply_retention(self, older_than: datetime) -> int:
        """Delete events older than the given time; returns how many were removed."""
        ...

    def close(self) -> None: ...


def batched(events: Iterable[Event], size: int) -> Iterator[list[Event]]:
    batch: list[Event] = []
    for event in events:
        batch.append(event)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@runtime_checkable
class BufferedStore(Protocol):
    """A store that may hold accepted writes in memory while its backend is unreachable."""

    @property
    def pending(self) -> int:
        """Events accepted but not yet persisted."""
        ...

    def flush(self) -> bool:
        """Try to persist everything pending now; True when nothing is left waiting."""
        ...
