"""The deployment event store: InfluxDB over the v1 HTTP API.

Schema (one measurement, no personal data: ids are pseudonymous, see dagritme.models):

    sensor_event,household=<id>,kind=<kind>,room=<room>,sensor=<id>
        value="on|off|open|closed",event_id="<id>",presence=1i|0i,seq=<n>i  <ts ns>

- tags: household, kind, room, sensor (bounded cardinality: one series per sensor);
- fields: value, event_id, presence (1 for motion on / contact on / door open), seq;
- timestamp: the event time in ns, with a stable digest of event_id in the sub-microsecond
  digits (`line_protocol.timestamp_ns`): a point is unique per series and timestamp, so a
  retried event overwrites itself and is counted once.

Writes are encoded by the caller and sent in batches by a writer thread
(`store.influx_writer`); when InfluxDB is unreachable they are retried with backoff and
kept in a bounded in-memory buffer. Reads first wait for pending sends, so a read sees
every accepted write while InfluxDB is reachable. When the buffer is full,
`write` raises `StoreUnavailable` without accepting the batch, so the caller (the broker
consumer) holds it and nothing is lost. Erasure drops the household's series and also
purges its points still waiting in the buffer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dagritme.models import Event, Kind, Room, Value

from .aggregate import ROOMS, Observation, check_bucket, daily_aggregates, day_window, require_aware
from .base import ActivityBucket, DailyAggregate, SensorLastSeen
from .config import InfluxSettings
from .influx_http import (
    InfluxHttp,
    InfluxRejected,
    quote_identifier,
    quote_literal,
)
from .influx_writer import InfluxWriter, PendingPoint, StoreUnavailable
from .line_protocol import MEASUREMENT, encode_event, timestamp_ns
from .timestamps import duration_us, from_us, to_us

__all__ = ["InfluxEventStore", "StoreUnavailable"]

logger = logging.getLogger(__name__)

_FAR_FUTURE = datetime(2262, 1, 1, tzinfo=UTC)  # the end of InfluxDB's ns time range


def _ns_to_datetime(ns: int) -> datetime:
    # The sub-microsecond digits are the event_id digest, not time.
    return from_us(ns // 1000)


class InfluxEventStore:
    """`EventStore` on InfluxDB; thread-safe (writes go through one `InfluxWriter`)."""

    def __init__(
        self,
        settings: InfluxSettings,
        *,
        http: InfluxHttp | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._http = http or InfluxHttp(settings)
        self._writer = InfluxWriter(self._http, settings, sleep=sleep, monotonic=monotonic)
        rp = settings.retention_policy
        self._from = (
            f"{quote_identifier(rp)}.{quote_identifier(MEASUREMENT)}"
            if rp
            else quote_identifier(MEASUREMENT)
        )
        if settings.create_database:
            self._http.execute(f"CREATE DATABASE {quote_identifier(settings.database)}")

    # -- writing ---------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Points accepted but not yet in InfluxDB."""
        return self._writer.pending

    @property
    def rejected_points(self) -> int:
        """Points InfluxDB refused as malformed or out of its retention (dropped, logged)."""
        return self._writer.rejected_points

    def write(self, events: Sequence[Event]) -> int:
        """Accept a batch; returns how many were accepted (InfluxDB cannot tell new ones).

        Sending happens on the writer thread; reads wait for it, so a read sees every
        accepted write unless InfluxDB is unreachable.
        """
        points = []
        for event in events:
            ts_ns = timestamp_ns(event)
            points.append(PendingPoint(event.household, ts_ns, encode_event(event, ts_ns)))
        self._writer.add(points)
        return len(points)

    def flush(self) -> bool:
        """Try to send every buffered point now; True when nothing is left waiting."""
        return self._writer.flush()

    # -- reading ---------------------------------------------------------------------------

    def activity(
        self, household: str, start: datetime, end: datetime, bucket: timedelta
    ) -> list[ActivityBucket]:
        start = require_aware(start, "start")
        end = require_aware(end, "end")
        check_bucket(start, end, bucket)
        self._writer.settle()
        start_ns, end_ns = to_us(start) * 1000, to_us(end) * 1000
        bucket_ns = duration_us(bucket) * 1000
        statement = (
            f'SELECT sum("presence") FROM {self._from} '
            f"WHERE {self._household(household)} AND time >= {start_ns} AND time < {end_ns} "
            f'GROUP BY time({bucket_ns}ns, {start_ns % bucket_ns}ns), "room" fill(none)'
        )
        buckets = []
        for series in self._http.select(statement):
            room = Room(series.tags["room"])
            for ts_ns, count in series.values:
                if count:
                    index = (ts_ns - start_ns) // bucket_ns
                    buckets.append(ActivityBucket(start + bucket * index, room, int(count)))
        buckets.sort(key=lambda b: (b.start, b.room))
        return buckets

    def last_seen(self, household: str) -> list[SensorLastSeen]:
        self._writer.settle()
        statement = (
            f'SELECT last("value") FROM {self._from} '
            f'WHERE {self._household(household)} GROUP BY "sensor", "room"'
        )
        latest: dict[str, SensorLastSeen] = {}
        for series in self._http.select(statement):
            for ts_ns, value in series.values:
                seen = SensorLastSeen(
                    sensor=series.tags["sensor"],
                    room=Room(series.tags["room"]),
                    ts=_ns_to_datetime(ts_ns),
                    value=value,
                )
                known = latest.get(seen.sensor)
                if known is None or seen.ts > known.ts:
                    latest[seen.sensor] = seen
        return [latest[sensor] for sensor in sorted(latest)]

    def daily(self, household: str, start: date, end: date, tz: str) -> list[DailyAggregate]:
        window = day_window(start, end, tz)
        self._writer.settle()
        start_ns, end_ns = to_us(window.start_utc) * 1000, to_us(window.end_utc) * 1000
        statement = (
            f'SELECT "presence", "room" FROM {self._from} '
            f"WHERE {self._household(household)} AND time >= {start_ns} AND time < {end_ns}"
        )
        observations = (
            Observation(ts_ns // 1000, ROOMS[room], bool(presence))
            for ts_ns, presence, room in self._rows(statement, ["time", "presence", "room"])
        )
        return daily_aggregates(observations, start, end, tz)

    def export(self, household: str) -> Iterator[Event]:
        self._writer.settle()
        columns = ["time", "event_id", "household", "sensor", "kind", "room", "value", "seq"]
        statement = (
            f'SELECT "event_id", "household", "sensor", "kind", "room", "value", "seq" '
            f"FROM {self._from} WHERE {self._household(household)}"
        )
        for ts_ns, event_id, hh, sensor, kind, room, value, seq in self._rows(statement, columns):
            yield Event(
                event_id=event_id,
                household=hh,
                sensor=sensor,
                kind=Kind(kind),
                room=Room(room),
                value=Value(value),
                ts=_ns_to_datetime(ts_ns),
                seq=seq,
            )

    # -- erasure and retention ---------------------------------------------------------------

    def erase(self, household: str) -> int:
        with self._writer.exclusive():
            purged = self._writer.purge(lambda point: point.household != household)
            stored = self._count(self._household(household))
            # DROP SERIES removes the household's series (and their index entries) in every
            # retention policy of the database; 2.x takes a delete predicate instead.
            self._delete(
                f"DROP SERIES FROM {quote_identifier(MEASUREMENT)} "
                f"WHERE {self._household(household)}",
                f'_measurement="{MEASUREMENT}" AND household={_predicate_string(household)}',
                _FAR_FUTURE,
            )
        logger.info("erased %d stored and %d buffered events of one household", stored, purged)
        return stored + purged

    def apply_retention(self, older_than: datetime) -> int:
        cutoff_ns = to_us(require_aware(older_than, "older_than")) * 1000
        with self._writer.exclusive():
            purged = self._writer.purge(lambda point: point.ts_ns >= cutoff_ns)
            stored = self._count(f"time < {cutoff_ns}")
            if stored:
                self._delete(
                    f"DELETE FROM {quote_identifier(MEASUREMENT)} WHERE time < {cutoff_ns}",
                    f'_measurement="{MEASUREMENT}"',
                    from_us(cutoff_ns // 1000) - timedelta(microseconds=1),
                )
        if stored or purged:
            logger.info("retention removed %d events", stored + purged)
        return stored + purged

    def close(self) -> None:
        self._writer.close()
        self._http.close()

    # -- helpers -----------------------------------------------------------------------------

    def _delete(self, influxql: str, v2_predicate: str, v2_stop: datetime) -> None:
        """InfluxQL delete (1.x); with `org` configured, the 2.x delete API if refused."""
        try:
            self._http.execute(influxql)
        except InfluxRejected:
            if self.settings.org is None:
                raise
            self._http.delete_v2(v2_predicate, v2_stop)

    @staticmethod
    def _household(household: str) -> str:
        return f'"household" = {quote_literal(household)}'

    def _count(self, condition: str) -> int:
        statement = f'SELECT count("event_id") FROM {self._from} WHERE {condition}'
        return sum(int(row[1]) for series in self._http.select(statement) for row in series.values)

    def _rows(self, statement: str, columns: list[str]) -> Iterator[list[Any]]:
        """Rows with the columns in the given order, whatever order InfluxDB returns."""
        for series in self._http.select(statement):
            if series.columns == columns:
                yield from series.values
                continue
            order = [series.columns.index(name) for name in columns]
            for row in series.values:
                yield [row[i] for i in order]


def _predicate_string(text: str) -> str:
    """A string literal of the 2.x delete predicate syntax."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
