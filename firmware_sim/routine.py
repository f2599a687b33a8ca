"""The resident model: a seeded, stochastic daily routine as a list of stays in places.

A simulated day runs from the resident's rising (leaving the bedroom) to the next day's
rising, so the night with its toilet visits belongs to the evening before. Every day is drawn
from its own random stream, seeded by (seed, household, date), so a day looks the same
whichever window of days is simulated around it.

Stays are in UTC epoch seconds (floats): the device models run over hundreds of thousands of
them when the load generator simulates thousands of homes.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dagritme.models import Room
from firmware_sim.personas import LAYOUTS, Persona

DAY_S = 86400.0
MIN = 60.0
HOUR = 3600.0

# Rooms one walks between through the hall.
_HALL_CONNECTED = frozenset({Room.BEDROOM, Room.BATHROOM, Room.TOILET, Room.KITCHEN, Room.LIVING})


@dataclass(frozen=True, slots=True)
class Stay:
    """Someone is in a place from `start` to `end` (UTC epoch seconds); None is outside."""

    place: Room | None
    start: float
    end: float
    stillness_s: float  # mean seconds between movements a motion sensor can see
    person: int = 0  # 0 is the resident, higher numbers are visitors
    pause_s: float = 0.0  # sitting: median of the long still pauses between bouts of fidgeting
    pause_p: float = 0.0  # share of the gaps between movements that are such long pauses


@dataclass(frozen=True, slots=True)
class DayModifiers:
    """How scenarios bend one day's routine (trends and not getting up)."""

    rise_shift_s: float = 0.0
    rise_at_s: float | None = None  # stays in bed until this local second of the day
    night_toilet_extra: float = 0.0
    kitchen_factor: float = 1.0
    bed_shift_s: float = 0.0  # goes to bed this much later than usual


NO_MODIFIERS = DayModifiers()


def day_rng(seed: int, household: str, day: date, purpose: str) -> random.Random:
    """A random stream that depends only on its name (string seeds are hashed with SHA-512)."""
    return random.Random(f"{seed}|{household}|{day.isoformat()}|{purpose}")


def poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def is_weekend(day: date) -> bool:
    return day.weekday() >= 5


def rise_second(
    persona: Persona, seed: int, household: str, day: date, mods: DayModifiers
) -> float:
    """Local second of the day at which the resident leaves the bedroom."""
    if mods.rise_at_s is not None:
        return mods.rise_at_s
    rng = day_rng(seed, household, day, "rise")
    hours = persona.rise_h + (persona.weekend_shift_h if is_weekend(day) else 0.0)
    hours += rng.gauss(0.0, persona.rise_sd_h)
    return max(3.5 * HOUR, hours * HOUR + mods.rise_shift_s)


class _Timeline:
    """Appends stays one after the other, walking through hall and entrance as needed."""

    def __init__(self, start: float, rng: random.Random, persona: Persona) -> None:
        self.t = start
        self.place: Room | None = Room.BEDROOM
        self.rng = rng
        self.persona = persona
        self.items: list[tuple[Room | None, float, float, float, float]] = []

    def _append(
        self, place: Room | None, duration: float, stillness: float, pause: float = 0.0
    ) -> None:
        duration = max(duration, 1.0)
        self.items.append((place, self.t, self.t + duration, stillness, pause))
        self.t += duration
        self.place = place

    def go(self, place: Room | None, duration: float, stillness: float, pause: float = 0.0) -> None:
        here, rng = self.place, self.rng
        if place is None and here is not None:
            if here is not Room.ENTRANCE:
                self._append(Room.HALL, rng.uniform(4, 10), 3.0)
                self._append(Room.ENTRANCE, rng.uniform(30, 90), 12.0)
        elif here is None and place is not None:
            self._append(Room.ENTRANCE, rng.uniform(30, 90), 12.0)
            if place is not Room.ENTRANCE:
                self._append(Room.HALL, rng.uniform(4, 10), 3.0)
        elif here != place and here in _HALL_CONNECTED and place in _HALL_CONNECTED:
            self._append(Room.HALL, rng.uniform(3, 8), 3.0)
            if rng.random() < self.persona.entrance_passby_probability:
                self._append(Room.ENTRANCE, rng.uniform(3, 10), 3.0)
                self._append(Room.HALL, rng.uniform(2, 5), 3.0)
        self._append(place, duration, stillness, pause)

    def sit_until(self, until: float) -> None:
        persona = self.persona
        self.go(Room.LIVING, until - self.t, persona.sitting_stillness_s, persona.sitting_pause_s)

    def stay_until(self, place: Room | None, until: float, stillness: float) -> None:
        self.go(place, until - self.t, stillness)


@dataclass(frozen=True, slots=True)
class _Block:
    start: float
    place: Room | None
    duration: float
    stillness: float


def _toilet_room(persona: Persona) -> Room:
    has_toilet = any(slot.room is Room.TOILET for slot in LAYOUTS[persona.layout])
    return Room.TOILET if has_toilet else Room.BATHROOM


def _fixed_blocks(
    persona: Persona, rng: random.Random, day: date, mods: DayModifiers
) -> list[_Block]:
    busy, kf = persona.busy_stillness_s, mods.kitchen_factor
    blocks = [
        _Block((persona.lunch_h + rng.gauss(0, persona.meal_sd_h)) * HOUR, Room.KITCHEN,
               rng.uniform(20, 40) * MIN * kf, busy),
        _Block((persona.dinner_h + rng.gauss(0, persona.meal_sd_h)) * HOUR, Room.KITCHEN,
               rng.uniform(30, 55) * MIN * kf, busy),
    ]  # fmt: skip
    if rng.random() < persona.nap_probability:
        blocks.append(
            _Block(blocks[0].start + blocks[0].duration + rng.uniform(15, 45) * MIN,
                   Room.BEDROOM, rng.gauss(persona.nap_min, 10) * MIN,
                   persona.sleep_stillness_s / 2)
        )  # fmt: skip
    outing_p = (
        persona.outing_probability_weekend
        if is_weekend(day)
        else persona.outing_probability_weekday
    )
    if rng.random() < outing_p:
        duration = rng.lognormvariate(math.log(persona.outing_mean_min), 0.45) * MIN
        blocks.append(_Block((persona.outing_h + rng.gauss(0, 0.8)) * HOUR, None, duration, 0.0))
    return sorted(blocks, key=lambda b: b.start)


_POTTER_ROOMS = (Room.KITCHEN, Room.BEDROOM, Room.BATHROOM, Room.LIVING)


@dataclass(frozen=True, slots=True)
class Errand:
    """A reason to get up from the chair: where to, for how long, and how often (a weight)."""

    name: str
    weight: Callable[[Persona, DayModifiers], float]
    place: Callable[[Persona], Room | None]
    minutes: tuple[float, float]
    kitchen_time: bool = False  # shrinks with a falling-kitchen-use trend


ERRANDS: tuple[Errand, ...] = (
    Errand("toilet", lambda p, m: p.bathroom_visits_per_day, lambda p: _toilet_room(p), (2, 8)),
    Errand("snack", lambda p, m: p.kitchen_snacks_per_day * m.kitchen_factor,
           lambda p: Room.KITCHEN, (3, 10), kitchen_time=True),
    Errand("bedroom", lambda p, m: p.bedroom_visits_per_day, lambda p: Room.BEDROOM, (2, 10)),
    # Post, bins, a word with a neighbour: the front door without going out for long.
    Errand("doorstep", lambda p, m: p.doorstep_per_day, lambda p: None, (1, 6)),
)  # fmt: skip


def _fill(tl: _Timeline, until: float, persona: Persona, mods: DayModifiers) -> None:
    """Living room time, interrupted by errands.

    After an errand the resident often potters through a few rooms before sitting down
    again, which is what makes real sensor logs so bursty.
    """
    rng = tl.rng
    weights = [errand.weight(persona, mods) for errand in ERRANDS]
    rate = persona.errands_per_day / (14 * HOUR)
    busy = persona.busy_stillness_s
    while tl.t < until - MIN:
        nxt = tl.t + rng.expovariate(rate)
        if nxt >= until - MIN:
            tl.sit_until(until)
            return
        tl.sit_until(nxt)
        errand = rng.choices(ERRANDS, weights)[0]
        minutes = rng.uniform(*errand.minutes)
        if errand.kitchen_time:
            minutes *= mods.kitchen_factor
        place = errand.place(persona)
        tl.go(place, minutes * MIN, busy if place is not None else 0.0)
        if rng.random() < persona.potter_probability:
            for _ in range(rng.randint(1, 3)):
                tl.go(rng.choice(_POTTER_ROOMS), rng.uniform(0.5, 3) * MIN, busy)


def build_day(
    persona: Persona,
    seed: int,
    household: str,
    day: date,
    tz: ZoneInfo,
    today: DayModifiers = NO_MODIFIERS,
    tomorrow: DayModifiers = NO_MODIFIERS,
) -> list[Stay]:
    """The resident's stays from rising on `day` to rising on the day after."""
    rng = day_rng(seed, household, day, "routine")
    rise = rise_second(persona, seed, household, day, today)
    next_rise = DAY_S + rise_second(persona, seed, household, day + timedelta(days=1), tomorrow)
    weekend = persona.weekend_shift_h if is_weekend(day) else 0.0
    bed = (persona.bed_h + weekend + rng.gauss(0, persona.bed_sd_h)) * HOUR + today.bed_shift_s
    bed = min(max(bed, rise + 8 * HOUR), next_rise - 4 * HOUR)
    busy = persona.busy_stillness_s
    tl = _Timeline(rise, rng, persona)
    for _ in range(rng.randint(1, 3)):  # washing and dressing: back and forth
        tl.go(Room.BATHROOM, rng.uniform(3, 8) * MIN, busy)
        tl.go(Room.BEDROOM, rng.uniform(2, 6) * MIN, busy)
    tl.go(Room.KITCHEN, rng.gauss(persona.breakfast_min, 6) * today.kitchen_factor * MIN, busy)
    for block in _fixed_blocks(persona, rng, day, today):
        if block.start + block.duration > bed - 30 * MIN:
            continue
        _fill(tl, block.start, persona, today)
        tl.go(block.place, block.duration, block.stillness)
    _fill(tl, bed - 15 * MIN, persona, today)
    tl.go(Room.BATHROOM, rng.uniform(6, 14) * MIN, busy)
    visits = poisson(rng, persona.night_toilet_mean + today.night_toilet_extra)
    night_start, night_end = tl.t + 30 * MIN, next_rise - 20 * MIN
    toilet = _toilet_room(persona)
    for at in sorted(rng.uniform(night_start, night_end) for _ in range(visits)):
        if at <= tl.t:
            continue
        tl.stay_until(Room.BEDROOM, at, persona.sleep_stillness_s)
        tl.go(toilet, rng.uniform(2, 6) * MIN, busy)
    tl.stay_until(Room.BEDROOM, next_rise, persona.sleep_stillness_s)
    return _to_utc(tl.items, day, tz, persona.sitting_pause_probability)


def local_to_epoch(day: date, second: float, tz: ZoneInfo) -> float:
    naive = datetime.combine(day, time()) + timedelta(seconds=second)
    return naive.replace(tzinfo=tz).timestamp()


def _to_utc(
    items: list[tuple[Room | None, float, float, float, float]],
    day: date,
    tz: ZoneInfo,
    pause_p: float,
) -> list[Stay]:
    stays: list[Stay] = []
    floor = -math.inf
    for place, start, end, stillness, pause in items:
        # Monotonic even through the missing hour of a spring DST change.
        utc_start = max(floor, local_to_epoch(day, start, tz))
        utc_end = max(utc_start, local_to_epoch(day, end, tz))
        floor = utc_end
        if utc_end > utc_start:
            stays.append(Stay(place, utc_start, utc_end, stillness, 0, pause, pause_p))
    return stays
