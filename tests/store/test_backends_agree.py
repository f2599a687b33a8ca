"""Property: SQLite and InfluxDB give the same answers for the same events."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagritme.models import Event, Kind, Room
from store.config import InfluxSettings
from store.influx import InfluxEventStore
from store.influx_server import InfluxServer
from store.sqlite import SqliteEventStore

from .factories import event

T0 = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)  # spans the Amsterdam DST switch
SENSORS = [
    ("M-bed", Room.BEDROOM, Kind.MOTION),
    ("M-wc", Room.TOILET, Kind.MOTION),
    ("M-bath", Room.BATHROOM, Kind.MOTION),
    ("M-kitchen", Room.KITCHEN, Kind.MOTION),
    ("D-front", Room.ENTRANCE, Kind.DOOR),
    ("C-fridge", Room.KITCHEN, Kind.CONTACT),
]
_households = (f"prop-{n}" for n in itertools.count())


Step = tuple[int, int, int, bool]  # second, microsecond, sensor index, presence


@st.composite
def histories(draw: st.DrawFn) -> list[Step]:
    # Distinct seconds, so "the latest event of a sensor" is never a tie.
    seconds = draw(st.sets(st.integers(0, 3 * 86_400), min_size=1, max_size=120))
    return [
        (
            second,
            draw(st.integers(0, 999_999)),
            draw(st.integers(0, len(SENSORS) - 1)),
            draw(st.booleans()),
        )
        for second in sorted(seconds)
    ]


def build(household: str, steps: list[Step]) -> list[Event]:
    events = []
    for seq, (second, micros, sensor_index, active) in enumerate(steps):
        sensor, room, kind = SENSORS[sensor_index]
        ts = T0 + timedelta(seconds=second, microseconds=micros)
        events.append(
            event(
                ts, household=household, sensor=sensor, room=room, kind=kind, active=active, seq=seq
            )
        )
    return events


@pytest.fixture(scope="module")
def both(influx_server: InfluxServer) -> Iterator[tuple[SqliteEventStore, InfluxEventStore]]:
    influx_server.create_database("agree")
    sqlite = SqliteEventStore(":memory:")
    influx = InfluxEventStore(InfluxSettings(url=influx_server.url, database="agree"))
    yield sqlite, influx
    sqlite.close()
    influx.close()
    influx_server.drop_database("agree")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    history=histories(),
    bucket_minutes=st.sampled_from([7, 60, 180, 1440]),
    offset_minutes=st.integers(0, 600),
)
def test_backends_agree(
    both: tuple[SqliteEventStore, InfluxEventStore],
    history: list[Step],
    bucket_minutes: int,
    offset_minutes: int,
) -> None:
    sqlite, influx = both
    household = next(_households)
    events = build(household, history)
    sqlite.write(events)
    influx.write(events)

    start = T0 + timedelta(minutes=offset_minutes)
    end = T0 + timedelta(days=3)
    bucket = timedelta(minutes=bucket_minutes)
    assert influx.activity(household, start, end, bucket) == sqlite.activity(
        household, start, end, bucket
    )
    assert influx.last_seen(household) == sqlite.last_seen(household)
    first_day, last_day = T0.date(), T0.date() + timedelta(days=4)
    for tz in ("Europe/Amsterdam", "America/Los_Angeles"):
        assert influx.daily(household, first_day, last_day, tz) == sqlite.daily(
            household, first_day, last_day, tz
        )
    assert sorted(influx.export(household), key=lambda e: e.event_id) == sorted(
        sqlite.export(household), key=lambda e: e.event_id
    )
