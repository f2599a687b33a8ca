"""Anomalies injected into real datasets, for `dagritme evaluate`.

Each scenario is a frozen dataclass with a builder that, given a day of real data and a
seeded random generator, returns an `Injection`: which events to cut or add, from when the
time-to-alert is measured, and until when an alert counts as a detection.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dagritme.models import AlertType, Event, Kind, Room, Value, make_event_id
from dagritme.rhythm import MIN_PRESENCE_FOR_DAY, NOT_UP_ROOMS
from detector.learning import is_presence

FALL_HOURS = 14  # longer than the baseline's 12 h rule, so both can detect
MIN_EVENTS_AT_HOME = 4
MAX_DRAWS = 60


@dataclass(frozen=True, slots=True)
class DayData:
    """The events of one local day, with the days around it for context."""

    day: date
    tz: ZoneInfo
    household: str
    events: Sequence[Event]  # all events of the dataset, time order
    times: Sequence[datetime]  # their timestamps, for bisection
    exterior_door: str | None  # sensor id of the front door, if the home has one

    def local(self, at: time, day: date | None = None) -> datetime:
        return datetime.combine(day or self.day, at, tzinfo=self.tz)

    def presence_between(self, start: datetime, end: datetime) -> list[Event]:
        low = bisect.bisect_left(self.times, start)
        high = bisect.bisect_left(self.times, end)
        return [e for e in self.events[low:high] if is_presence(e)]

    def lived_in(self) -> bool:
        """The resident was home that day and the day before (not an absence)."""
        start = self.local(time())
        return all(
            len(
                self.presence_between(
                    start - timedelta(days=back), start + timedelta(days=1 - back)
                )
            )
            >= MIN_PRESENCE_FOR_DAY
            for back in (0, 1)
        )

    def last_presence_before(self, at: datetime, within: timedelta) -> Event | None:
        found = self.presence_between(at - within, at)
        return found[-1] if found else None


@dataclass(frozen=True, slots=True)
class Injection:
    scenario: str
    day: date
    start: datetime  # the anomaly begins
    reference: datetime  # time-to-alert is measured from here
    window_end: datetime  # an alert later than this is a miss
    cut: tuple[datetime, datetime] | None = None
    extra: tuple[Event, ...] = field(default_factory=tuple)

    def apply(self, events: Sequence[Event]) -> list[Event]:
        kept = [e for e in events if self.cut is None or not self.cut[0] <= e.ts < self.cut[1]]
        return sorted([*kept, *self.extra], key=lambda e: e.ts)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    detects: frozenset[AlertType]
    build: Callable[[DayData, random.Random], Injection | None]


def _at_home(data: DayData, at: datetime, within: timedelta) -> bool:
    """Lived-in just before `at` (not a few ghost events in an empty home), not leaving."""
    before = data.presence_between(at - within, at)
    return len(before) >= MIN_EVENTS_AT_HOME and before[-1].room is not Room.ENTRANCE


def build_fall(data: DayData, rng: random.Random) -> Injection | None:
    """A fall at a random daytime moment while the resident is home: nothing after it."""
    for _ in range(MAX_DRAWS):
        start = data.local(time(10)) + timedelta(seconds=rng.randrange(8 * 3600))
        if not _at_home(data, start, timedelta(minutes=30)):
            continue
        after = data.presence_between(start, start + timedelta(hours=1))
        if len(after) < MIN_EVENTS_AT_HOME or after[0].room is Room.ENTRANCE:
            continue  # about to go out: not a moment at home
        end = start + timedelta(hours=FALL_HOURS)
        return Injection("fall", data.day, start, start, end, cut=(start, end))
    return None


def build_missing_morning(data: DayData, rng: random.Random) -> Injection | None:
    """The resident does not get up: every event from 04:00 to 13:00 is gone."""
    del rng  # the day is the random choice
    start, end = data.local(time(4)), data.local(time(13))
    if not _at_home(data, start, timedelta(hours=8)):
        return None
    rising = next(
        (e for e in data.presence_between(start, end) if e.room not in NOT_UP_ROOMS), None
    )
    if rising is None:
        return None
    return Injection("missing_morning", data.day, start, rising.ts, end, cut=(start, end))


def build_night_door(data: DayData, rng: random.Random) -> Injection | None:
    """The front door opens in the middle of the night (wandering)."""
    door = data.exterior_door
    if door is None:
        return None
    for _ in range(MAX_DRAWS):
        start = data.local(time(0, 30)) + timedelta(seconds=rng.randrange(4 * 3600))
        if not _at_home(data, start, timedelta(hours=8)):
            continue
        hour = timedelta(hours=1)
        near = [e for e in data.presence_between(start - hour, start + hour) if e.sensor == door]
        if near:
            continue
        extra = tuple(
            Event(
                event_id=make_event_id(data.household, door, ts, f"{value}:injected"),
                household=data.household,
                sensor=door,
                kind=Kind.DOOR,
                room=Room.ENTRANCE,
                value=value,
                ts=ts,
                seq=0,
            )
            for ts, value in ((start, Value.OPEN), (start + timedelta(seconds=30), Value.CLOSED))
        )
        return Injection(
            "night_door", data.day, start, start, start + timedelta(minutes=30), extra=extra
        )
    return None


SCENARIOS: list[Scenario] = [
    Scenario("fall", frozenset({AlertType.INACTIVITY, AlertType.BATHROOM_LONG}), build_fall),
    Scenario(
        "missing_morning",
        frozenset({AlertType.NOT_UP, AlertType.INACTIVITY}),
        build_missing_morning,
    ),
    Scenario("night_door", frozenset({AlertType.NIGHT_DOOR}), build_night_door),
]
