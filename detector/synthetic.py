"""A seeded, regular synthetic household, for tests, benchmarks and warming up demos.

One resident: sleeps in the bedroom (a motion blip every hour or so, one toilet visit),
gets up around a usual time, moves between kitchen, living room and bathroom during the
day, goes out by the front door on some mornings, and goes to bed in the evening.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dagritme.dataset import SensorInfo
from dagritme.models import Event, Kind, Room, Value, make_event_id
from detector.replay import AlertSource, replay_events

SENSORS: tuple[SensorInfo, ...] = (
    SensorInfo("bedroom_motion", Kind.MOTION, Room.BEDROOM),
    SensorInfo("bathroom_motion", Kind.MOTION, Room.BATHROOM),
    SensorInfo("kitchen_motion", Kind.MOTION, Room.KITCHEN),
    SensorInfo("living_motion", Kind.MOTION, Room.LIVING),
    SensorInfo("hall_motion", Kind.MOTION, Room.HALL),
    SensorInfo("entrance_motion", Kind.MOTION, Room.ENTRANCE),
    SensorInfo("front_door", Kind.DOOR, Room.ENTRANCE),
    SensorInfo("fridge_contact", Kind.CONTACT, Room.KITCHEN),
)
BY_ROOM = {info.room: info for info in SENSORS if info.kind is Kind.MOTION}
FRONT_DOOR = SENSORS[6]
DAY_ROOMS = (Room.KITCHEN, Room.LIVING, Room.LIVING, Room.BATHROOM, Room.HALL)


@dataclass(frozen=True, slots=True)
class Routine:
    rising: time = time(7, 30)
    weekend_rising: time | None = None  # sleeping in on Saturday and Sunday
    bedtime: time = time(22, 45)
    jitter_min: int = 20
    outing_probability: float = 0.4
    outing_start: time = time(10, 0)
    outing_minutes: int = 90
    night_toilet_visits: int = 1
    day_gap_minutes: tuple[int, int] = (3, 25)  # between daytime activations; wider = sparser


class SyntheticHome:
    """Seeded event generator; `events(start, days)` yields events in time order."""

    def __init__(
        self, household: str, tz: ZoneInfo, seed: int = 1, routine: Routine | None = None
    ) -> None:
        self.household = household
        self.tz = tz
        self.routine = routine or Routine()
        self._rng = random.Random(seed)
        self._seq = 0

    def _event(self, info: SensorInfo, ts: datetime, value: Value) -> Event:
        self._seq += 1
        return Event(
            event_id=make_event_id(self.household, info.sensor, ts, f"{value}:{self._seq}"),
            household=self.household,
            sensor=info.sensor,
            kind=info.kind,
            room=info.room,
            value=value,
            ts=ts,
            seq=self._seq,
        )

    def _motion(self, room: Room, local: datetime) -> list[Event]:
        info = BY_ROOM[room]
        return [
            self._event(info, local, Value.ON),
            self._event(info, local + timedelta(seconds=30), Value.OFF),
        ]

    def _at(self, day: date, at: time) -> datetime:
        # In UTC, so that adding minutes is real elapsed time, also on DST days.
        return datetime.combine(day, at, tzinfo=self.tz).astimezone(UTC)

    def _jitter(self, at: time, day: date) -> datetime:
        minutes = self._rng.randint(-self.routine.jitter_min, self.routine.jitter_min)
        return self._at(day, at) + timedelta(minutes=minutes)

    def day_events(self, day: date) -> list[Event]:
        """One local day, midnight to midnight."""
        rng, routine = self._rng, self.routine
        midnight = self._at(day, time())
        next_midnight = self._at(day + timedelta(days=1), time())
        usual_rising = routine.rising
        if day.weekday() >= 5 and routine.weekend_rising is not None:
            usual_rising = routine.weekend_rising
        rising = self._jitter(usual_rising, day)
        bedtime = self._jitter(routine.bedtime, day)
        out: list[Event] = []
        # night: sleep blips and one toilet visit
        at = midnight + timedelta(minutes=rng.randint(20, 60))
        while at < rising - timedelta(minutes=10):
            out += self._motion(Room.BEDROOM, at)
            at += timedelta(minutes=rng.randint(40, 100))
        for visit in range(routine.night_toilet_visits):
            toilet = midnight + timedelta(hours=1 + visit * 1.5, minutes=rng.randint(0, 40))
            out += self._motion(Room.BATHROOM, toilet)
            out += self._motion(Room.BEDROOM, toilet + timedelta(minutes=4))
        # morning and day
        outing = rng.random() < routine.outing_probability
        out_from = self._at(day, routine.outing_start)
        out_until = out_from + timedelta(minutes=routine.outing_minutes)
        at = rising
        out += self._motion(Room.BEDROOM, at)
        out += self._motion(Room.BATHROOM, at + timedelta(minutes=2))
        at += timedelta(minutes=15)
        previous = Room.BATHROOM
        while at < bedtime:
            if outing and out_from <= at < out_until:
                out += self._motion(Room.ENTRANCE, out_from - timedelta(minutes=1))
                out.append(self._event(FRONT_DOOR, out_from, Value.OPEN))
                out.append(self._event(FRONT_DOOR, out_from + timedelta(seconds=20), Value.CLOSED))
                out.append(self._event(FRONT_DOOR, out_until, Value.OPEN))
                out.append(self._event(FRONT_DOOR, out_until + timedelta(seconds=20), Value.CLOSED))
                out += self._motion(Room.ENTRANCE, out_until + timedelta(seconds=40))
                at = out_until + timedelta(minutes=2)
                outing = False
                continue
            room = rng.choice(DAY_ROOMS)
            if room is Room.BATHROOM and previous is Room.BATHROOM:
                room = Room.LIVING  # visits end: nobody stays in the bathroom all afternoon
            previous = room
            out += self._motion(room, at)
            if room is Room.KITCHEN and rng.random() < 0.5:
                fridge = SENSORS[7]
                out.append(self._event(fridge, at + timedelta(seconds=45), Value.ON))
                out.append(self._event(fridge, at + timedelta(seconds=75), Value.OFF))
            at += timedelta(minutes=rng.randint(*routine.day_gap_minutes))
        out += self._motion(Room.BATHROOM, bedtime)
        out += self._motion(Room.BEDROOM, bedtime + timedelta(minutes=10))
        at = bedtime + timedelta(minutes=rng.randint(40, 90))
        while at < next_midnight:
            out += self._motion(Room.BEDROOM, at)
            at += timedelta(minutes=rng.randint(40, 100))
        out.sort(key=lambda e: e.ts)
        return out

    def events(self, start: date, days: int) -> Iterator[Event]:
        for offset in range(days):
            yield from self.day_events(start + timedelta(days=offset))


def warm_up(
    detector: AlertSource,
    household: str,
    tz: ZoneInfo,
    *,
    until: datetime,
    days: int = 14,
    seed: int = 1,
    routine: Routine | None = None,
) -> int:
    """Feed `days` of regular history ending at `until` (ticks included); returns events fed.

    For demos: a detector warmed up like this has learned limits, so a scripted fall later
    raises an inactivity alert within a couple of simulated hours.
    """
    home = SyntheticHome(household, tz, seed=seed, routine=routine)
    first = until.astimezone(tz).date() - timedelta(days=days)
    events = [e for e in home.events(first, days + 1) if e.ts < until]
    for _ in replay_events(detector, events, until=until):
        pass
    return len(events)
