"""The shared rising rule: its cases, and the same answer as the detector's incremental code."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from dagritme.models import Event, Kind, Room, Value, make_event_id
from dagritme.rhythm import (
    BACK_TO_BED_S,
    PASSAGE_ROOMS,
    Presence,
    RisingTracker,
    is_presence,
    minute_clock,
    rising_minute,
)
from tests.dagritme.detector_harness import detector_risings

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
DAY = date(2026, 3, 10)


def at(hour: int, minute: int, second: int = 0, room: Room = Room.KITCHEN) -> Presence:
    """Presence on DAY at local hh:mm:ss (UTC offset +1 that day)."""
    local = datetime.combine(DAY, time(hour, minute, second), tzinfo=AMSTERDAM)
    return Presence(local.timestamp(), hour * 60 + minute, room)


def test_an_early_night_visit_and_restlessness_are_not_the_rising() -> None:
    """The nurse's screenshot: 05:15 shown for a resident who rises at 07:30."""
    day = [
        at(5, 10, 0, Room.BEDROOM),
        at(5, 10, 30, Room.BATHROOM),
        at(5, 12, 0, Room.BATHROOM),
        at(5, 14, 0, Room.BEDROOM),  # back to bed
        at(5, 40, 0, Room.BEDROOM),  # restless in bed
        at(6, 15, 0, Room.BEDROOM),
        at(7, 30, 0, Room.KITCHEN),
        at(7, 31, 0, Room.KITCHEN),
    ]
    assert rising_minute(day) == 7 * 60 + 30


def test_a_night_toilet_trip_through_the_hall_is_not_the_rising() -> None:
    """Dense homes: two hall passages used to confirm a 04:30 'rising' before the return."""
    trip = [
        at(4, 30, 0, Room.HALL),
        at(4, 30, 40, Room.TOILET),
        at(4, 33, 0, Room.HALL),
        at(4, 33, 30, Room.BEDROOM),
        at(7, 20, 0, Room.HALL),
        at(7, 21, 0, Room.KITCHEN),
        at(7, 22, 0, Room.KITCHEN),
    ]
    assert rising_minute(trip) == 7 * 60 + 20
    assert rising_minute(trip[:4]) is None
    assert Room.HALL in PASSAGE_ROOMS


def test_a_second_event_soon_after_confirms_the_first() -> None:
    assert rising_minute([at(7, 2, room=Room.HALL), at(7, 20, room=Room.LIVING)]) == 422


def test_a_return_to_bed_within_twenty_minutes_undoes_a_candidate() -> None:
    night_walk = [at(5, 30, room=Room.LIVING), at(5, 49, 59, room=Room.BEDROOM)]
    assert rising_minute(night_walk) is None
    up = [at(5, 30, room=Room.LIVING), at(5, 50, 1, room=Room.BEDROOM)]
    assert rising_minute(up) == 330  # not back within BACK_TO_BED_S: that was the rising
    assert BACK_TO_BED_S == 20 * 60


def test_a_lone_candidate_is_settled_at_the_end_of_the_day() -> None:
    assert rising_minute([at(8, 5, room=Room.LIVING)]) == 485


def test_only_the_morning_window_counts() -> None:
    night = [at(3, 50, room=Room.KITCHEN), at(3, 55, room=Room.KITCHEN)]
    assert rising_minute(night) is None
    afternoon = [at(15, 0, room=Room.KITCHEN), at(15, 5, room=Room.KITCHEN)]
    assert rising_minute(afternoon) is None
    # activity in the bed and bath rooms alone is never a rising
    assert rising_minute([at(9, m, room=Room.BATHROOM) for m in range(0, 50, 5)]) is None


def test_the_tracker_decides_once_and_keeps_its_answer() -> None:
    tracker = RisingTracker()
    assert tracker.observe(at(6, 0, room=Room.LIVING)) is None
    assert tracker.observe(at(6, 1, room=Room.KITCHEN)) == 360
    assert tracker.observe(at(6, 5, room=Room.BEDROOM)) == 360
    assert tracker.settle() == 360
    assert RisingTracker().settle() is None


@pytest.mark.parametrize(
    ("kind", "value", "presence"),
    [
        (Kind.MOTION, Value.ON, True),
        (Kind.MOTION, Value.OFF, False),  # the sensor's timeout, not a person
        (Kind.DOOR, Value.OPEN, True),
        (Kind.DOOR, Value.CLOSED, True),  # someone closed it
        (Kind.CONTACT, Value.ON, True),
        (Kind.CONTACT, Value.OFF, True),
    ],
)
def test_presence_is_what_the_detector_counts(kind: Kind, value: Value, presence: bool) -> None:
    assert is_presence(kind, value) is presence
    assert is_presence(kind, value.value) is presence


def test_minute_clock() -> None:
    assert minute_clock(450) == "07:30"
    assert minute_clock(450.5) == "07:30"
    assert minute_clock(0) == "00:00"


ROOMS = [r for r in Room if r is not Room.ENTRANCE]  # the entrance brings in the away logic
CHANGES = [
    (Kind.MOTION, Value.ON),
    (Kind.MOTION, Value.OFF),
    (Kind.CONTACT, Value.ON),
    (Kind.CONTACT, Value.OFF),
    (Kind.DOOR, Value.OPEN),
    (Kind.DOOR, Value.CLOSED),
]


def _event(seq: int, ts: datetime, room: Room, kind: Kind, value: Value) -> Event:
    sensor = f"{kind.value}-{room.value}"
    return Event(
        event_id=make_event_id("hh-prop", sensor, ts, f"{value}:{seq}"),
        household="hh-prop",
        sensor=sensor,
        kind=kind,
        room=room,
        value=value,
        ts=ts,
        seq=seq,
    )


@settings(max_examples=150, deadline=None)
@given(
    day=st.sampled_from([DAY, date(2026, 3, 29)]),  # and the day clocks go forward
    steps=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=50 * 60),  # seconds after the previous event
            st.sampled_from(ROOMS),
            st.sampled_from(CHANGES),
        ),
        min_size=12,
        max_size=80,
    ),
)
def test_the_rule_gives_the_detectors_rising(
    day: date, steps: list[tuple[int, Room, tuple[Kind, Value]]]
) -> None:
    """Any day's events: dagritme.rhythm over their presence == the detector's learning."""
    ts = datetime.combine(day, time(3, 30), tzinfo=AMSTERDAM).astimezone(UTC)
    events: list[Event] = []
    for seq, (gap, room, (kind, value)) in enumerate(steps):
        ts += timedelta(seconds=gap)
        events.append(_event(seq, ts, room, kind, value))
    events = [e for e in events if e.ts.astimezone(AMSTERDAM).date() == day]
    closing = datetime.combine(day + timedelta(days=1), time(1, 0), tzinfo=AMSTERDAM)
    events.append(_event(len(steps), closing.astimezone(UTC), Room.BEDROOM, Kind.MOTION, Value.ON))
    presence = [
        Presence(e.ts.timestamp(), _minute(e.ts), e.room)
        for e in events[:-1]
        if is_presence(e.kind, e.value)
    ]
    expected = rising_minute(presence) if len(presence) >= 10 else None
    event("a rising" if expected is not None else "no rising")
    assert detector_risings(events, AMSTERDAM).get(day) == expected


def _minute(ts: datetime) -> int:
    local = ts.astimezone(AMSTERDAM)
    return local.hour * 60 + local.minute
