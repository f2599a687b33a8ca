"""The EventStore contract, run against every backend (fixture `event_store`)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dagritme.dataset import Dataset
from dagritme.models import Event, Kind, Room
from store.aggregate import Observation, daily_aggregates
from store.base import EventStore, batched
from store.timestamps import to_us

from .factories import event

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_implements_the_protocol(event_store: EventStore) -> None:
    assert isinstance(event_store, EventStore)


def test_write_is_idempotent_by_event_id(event_store: EventStore) -> None:
    batch = [event(T0 + timedelta(minutes=i), seq=i) for i in range(20)]
    assert event_store.write(batch) == 20
    event_store.write(batch)
    event_store.write(batch[5:12])
    assert len(list(event_store.export("hh-1"))) == 20


def test_export_round_trips_every_field_in_time_order(event_store: EventStore) -> None:
    written = [
        event(T0 + timedelta(seconds=37 * i, microseconds=123457 * i % 1_000_000), seq=i)
        for i in range(30)
    ]
    written.append(event(T0, sensor="D001", room=Room.ENTRANCE, kind=Kind.DOOR, seq=99))
    written.append(event(T0, sensor="C001", room=Room.TOILET, kind=Kind.CONTACT, active=False))
    event_store.write(list(reversed(written)))
    exported = list(event_store.export("hh-1"))
    assert sorted(exported, key=lambda e: e.event_id) == sorted(written, key=lambda e: e.event_id)
    assert [e.ts for e in exported] == sorted(e.ts for e in written)


def test_same_sensor_same_second_events_are_all_kept(event_store: EventStore) -> None:
    on = event(T0, active=True)
    off = event(T0, active=False)
    event_store.write([on, off])
    assert {e.value for e in event_store.export("hh-1")} == {on.value, off.value}


def test_activity_counts_presence_by_room_and_bucket(event_store: EventStore) -> None:
    start = T0.replace(minute=30)  # buckets align to `start`, not to the hour
    events = [
        event(start + timedelta(minutes=1), room=Room.KITCHEN, sensor="M1"),
        event(start + timedelta(minutes=2), room=Room.KITCHEN, sensor="M1", active=False),
        event(start + timedelta(minutes=59), room=Room.KITCHEN, sensor="M1"),
        event(start + timedelta(minutes=61), room=Room.KITCHEN, sensor="M1"),
        event(start + timedelta(minutes=70), room=Room.BEDROOM, sensor="M2"),
        event(start + timedelta(minutes=75), room=Room.ENTRANCE, sensor="D1", kind=Kind.DOOR),
        event(start - timedelta(seconds=1), room=Room.KITCHEN, sensor="M1"),  # before start
        event(start + timedelta(hours=3), room=Room.KITCHEN, sensor="M1"),  # at end: excluded
        event(start + timedelta(minutes=5), household="hh-2", room=Room.KITCHEN),
    ]
    event_store.write(events)
    buckets = event_store.activity("hh-1", start, start + timedelta(hours=3), timedelta(hours=1))
    assert {(b.start, b.room, b.count) for b in buckets} == {
        (start, Room.KITCHEN, 2),
        (start + timedelta(hours=1), Room.KITCHEN, 1),
        (start + timedelta(hours=1), Room.BEDROOM, 1),
        (start + timedelta(hours=1), Room.ENTRANCE, 1),
    }


def test_activity_rejects_naive_times(event_store: EventStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        event_store.activity("hh-1", datetime(2026, 1, 1), T0, timedelta(hours=1))  # noqa: DTZ001


def test_last_seen_gives_the_latest_event_of_each_sensor(event_store: EventStore) -> None:
    event_store.write(
        [
            event(T0, sensor="M1", room=Room.KITCHEN),
            event(T0 + timedelta(minutes=3), sensor="M1", room=Room.KITCHEN, active=False),
            event(T0 + timedelta(minutes=1), sensor="D1", room=Room.ENTRANCE, kind=Kind.DOOR),
            event(T0 + timedelta(hours=1), sensor="M9", household="hh-2"),
        ]
    )
    seen = {s.sensor: s for s in event_store.last_seen("hh-1")}
    assert set(seen) == {"M1", "D1"}
    assert seen["M1"].ts == T0 + timedelta(minutes=3)
    assert seen["M1"].value == "off"
    assert seen["M1"].room is Room.KITCHEN
    assert seen["D1"].value == "open"
    assert event_store.last_seen("nobody") == []


def test_daily_uses_local_days_and_counts_night_toilet_visits(event_store: EventStore) -> None:
    tz = "Europe/Amsterdam"  # UTC+1 in March before the switch
    local = ZoneInfo(tz)

    def at(day: int, hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 3, day, hour, minute, tzinfo=local)

    events = [
        event(at(2, 0, 30), sensor="T1", room=Room.TOILET),  # visit 1
        event(at(2, 0, 34), sensor="T1", room=Room.TOILET),  # same visit
        event(at(2, 0, 35), sensor="T1", room=Room.TOILET, active=False),
        event(at(2, 3, 0), sensor="B1", room=Room.BEDROOM),
        event(at(2, 3, 5), sensor="T1", room=Room.TOILET),  # visit 2: came from the bedroom
        event(at(2, 5, 0), sensor="W1", room=Room.BATHROOM),  # visit 3: long quiet before
        event(at(2, 7, 15), sensor="B1", room=Room.BEDROOM),
        event(at(2, 7, 20), sensor="T1", room=Room.TOILET),  # morning: not a night visit
        event(at(2, 23, 50), sensor="K1", room=Room.KITCHEN),
        event(at(4, 0, 10), sensor="K1", room=Room.KITCHEN),  # 23:10 UTC on the 3rd
    ]
    event_store.write(events)
    days = event_store.daily("hh-1", date(2026, 3, 2), date(2026, 3, 5), tz)
    assert [d.day for d in days] == [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)]
    first, empty, last = days
    assert first.events == 9
    assert first.night_toilet_visits == 3
    assert first.by_room == {Room.TOILET: 4, Room.BEDROOM: 2, Room.BATHROOM: 1, Room.KITCHEN: 1}
    assert first.first_activity == at(2, 0, 30)
    assert first.last_activity == at(2, 23, 50)
    assert (empty.events, empty.by_room, empty.first_activity) == (0, {}, None)
    assert (last.events, last.by_room, last.night_toilet_visits) == (1, {Room.KITCHEN: 1}, 0)


def test_erase_removes_one_household_only(event_store: EventStore) -> None:
    event_store.write([event(T0 + timedelta(minutes=i)) for i in range(7)])
    event_store.write([event(T0 + timedelta(minutes=i), household="hh-2") for i in range(3)])
    assert event_store.erase("hh-1") == 7
    assert list(event_store.export("hh-1")) == []
    assert event_store.last_seen("hh-1") == []
    assert len(list(event_store.export("hh-2"))) == 3
    assert event_store.erase("hh-1") == 0


def test_retention_removes_old_events_only(event_store: EventStore) -> None:
    event_store.write([event(T0 + timedelta(days=i), seq=i) for i in range(10)])
    assert event_store.apply_retention(T0 + timedelta(days=4)) == 4
    remaining = list(event_store.export("hh-1"))
    assert [e.seq for e in remaining] == list(range(4, 10))


@pytest.fixture(scope="module")
def casas_week(datasets_dir: Path) -> list[Event]:
    """Five days of a real home (about 10,000 events)."""
    events = Dataset.load(datasets_dir / "casas-al-smarthome").events(
        "casas-1", ZoneInfo("America/Los_Angeles")
    )
    first = next(events)
    return [first, *(e for e in events if e.ts < first.ts + timedelta(days=5))]


def test_real_home_queries_agree_with_the_raw_events(
    event_store: EventStore, casas_week: list[Event]
) -> None:
    for batch in batched(casas_week, 5000):
        event_store.write(batch)
    assert sum(1 for _ in event_store.export("casas-1")) == len(casas_week)

    start = casas_week[0].ts.replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(days=5)
    bucket = timedelta(hours=1)
    expected = Counter(
        ((e.ts - start) // bucket, e.room) for e in casas_week if e.active and e.ts < end
    )
    got = {
        ((b.start - start) // bucket, b.room): b.count
        for b in event_store.activity("casas-1", start, end, bucket)
    }
    assert got == dict(expected)

    tz = "America/Los_Angeles"
    first_day = casas_week[0].ts.astimezone(ZoneInfo(tz)).date()
    days = event_store.daily("casas-1", first_day, first_day + timedelta(days=5), tz)
    observations = [Observation(to_us(e.ts), e.room, e.active) for e in casas_week]
    assert days == daily_aggregates(observations, first_day, first_day + timedelta(days=5), tz)
    last_day = first_day + timedelta(days=4)
    in_window = [e for e in casas_week if e.ts.astimezone(ZoneInfo(tz)).date() <= last_day]
    assert sum(d.events for d in days) == len(in_window)
    assert sum(d.night_toilet_visits for d in days) > 0
