"""How scenarios bend the resident's timeline: day modifiers and cut-and-insert edits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from dagritme.models import Room
from firmware_sim.routine import MIN, DayModifiers, Stay
from firmware_sim.scenarios import Effect, Injection
from firmware_sim.sensing import stable_rng

# How far a trend has moved the routine once it is complete.
TREND_NIGHT_TOILET_EXTRA = 2.5  # visits per night
TREND_RISE_SHIFT_S = 80 * MIN
TREND_KITCHEN_FACTOR = 0.4  # kitchen time falls to this share
TREND_BED_SHIFT_S = 90 * MIN


def _seconds_of_day(moment: datetime, tz: ZoneInfo) -> float:
    local = moment.astimezone(tz)
    return float(local.hour * 3600 + local.minute * 60 + local.second)


def day_modifiers(injections: Sequence[Injection], day: date, tz: ZoneInfo) -> DayModifiers:
    """Trends and not getting up, as they bend the routine of one local day."""
    rise_shift, rise_at, toilet_extra, kitchen, bed_shift = 0.0, None, 0.0, 1.0, 0.0
    for inj in injections:
        if inj.kind.effect is Effect.NOT_UP and inj.day == day:
            rise_at = _seconds_of_day(inj.end, tz)
        elif inj.kind.effect is Effect.TREND and day >= inj.day:
            span_days = max(1.0, (inj.end - inj.start).total_seconds() / 86400)
            progress = min(1.0, (day - inj.day).days / span_days)
            if inj.kind.subtype == "night_toilet":
                toilet_extra += TREND_NIGHT_TOILET_EXTRA * progress
            elif inj.kind.subtype == "rising_time":
                rise_shift += TREND_RISE_SHIFT_S * progress
            elif inj.kind.subtype == "kitchen":
                kitchen *= 1.0 - (1.0 - TREND_KITCHEN_FACTOR) * progress
            elif inj.kind.subtype == "bedtime":
                bed_shift += TREND_BED_SHIFT_S * progress
    return DayModifiers(rise_shift, rise_at, toilet_extra, kitchen, bed_shift)


def cut(stays: Sequence[Stay], start: float, end: float, person: int = 0) -> list[Stay]:
    """Remove one person's presence in [start, end); stays across the edges are clipped."""
    out: list[Stay] = []
    for stay in stays:
        if stay.person != person or stay.end <= start or stay.start >= end:
            out.append(stay)
            continue
        if stay.start < start:
            out.append(replace(stay, end=start))
        if stay.end > end:
            out.append(replace(stay, start=end))
    return out


def _walk(places: Sequence[tuple[Room | None, float, float]], t: float, person: int) -> list[Stay]:
    stays = []
    for place, duration, stillness in places:
        stays.append(Stay(place, t, t + duration, stillness, person))
        t += duration
    return stays


def _away(inj: Injection, seed: int) -> list[Stay]:
    rng = stable_rng(seed, inj.household, inj.kind.name, inj.start_s)
    leave = [(Room.HALL, rng.uniform(4, 8), 3.0), (Room.ENTRANCE, rng.uniform(25, 60), 10.0)]
    back = [(Room.ENTRANCE, rng.uniform(25, 60), 10.0), (Room.HALL, rng.uniform(4, 8), 3.0)]
    out_start = inj.start_s + sum(d for _, d, _ in leave)
    out_end = inj.end_s - sum(d for _, d, _ in back)
    return [
        *_walk(leave, inj.start_s, 0),
        Stay(None, out_start, out_end, 0.0),
        *_walk(back, out_end, 0),
    ]


def _bathroom(inj: Injection) -> list[Stay]:
    return [
        Stay(Room.HALL, inj.start_s, inj.start_s + 5, 3.0),
        Stay(Room.BATHROOM, inj.start_s + 5, inj.end_s - 5, 600.0),
        Stay(Room.HALL, inj.end_s - 5, inj.end_s, 3.0),
    ]


def _visitors(inj: Injection, seed: int) -> list[Stay]:
    rng = stable_rng(seed, inj.household, "visitors", inj.start_s)
    length = inj.end_s - inj.start_s
    kitchen = min(15 * MIN, length / 4)
    living = max(60.0, length - kitchen - 2 * (60 + 8))
    route = [
        (Room.ENTRANCE, 60.0, 10.0),
        (Room.HALL, 8.0, 3.0),
        (Room.LIVING, living * 0.6, 45.0),
        (Room.KITCHEN, kitchen, 30.0),
        (Room.LIVING, living * 0.4, 45.0),
        (Room.HALL, 8.0, 3.0),
        (Room.ENTRANCE, 60.0, 10.0),
    ]
    person = 1 + int(rng.random() * 1000)
    inside = _walk(route, inj.start_s, person)
    return [
        Stay(None, inj.start_s - 600, inj.start_s, 0.0, person),
        *inside,
        Stay(None, inside[-1].end, inside[-1].end + 600, 0.0, person),
    ]


def apply_timeline_scenarios(
    stays: list[Stay], injections: Sequence[Injection], seed: int
) -> list[Stay]:
    """Cut the resident out where a scenario says so and insert what happens instead."""
    for inj in injections:
        effect = inj.kind.effect
        if effect is Effect.SILENCE:
            stays = cut(stays, inj.start_s, inj.end_s)
        elif effect is Effect.AWAY:
            stays = cut(stays, inj.start_s, inj.end_s) + _away(inj, seed)
        elif effect is Effect.BATHROOM:
            stays = cut(stays, inj.start_s, inj.end_s) + _bathroom(inj)
        elif effect is Effect.VISITORS:
            stays = stays + _visitors(inj, seed)
    stays.sort(key=lambda s: (s.start, s.person))
    return stays
