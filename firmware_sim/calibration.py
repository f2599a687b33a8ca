"""Compare simulated homes with real ones on figures that do not depend on the sensor make.

Real CASAS motion sensors fire short ON/OFF pulses, Zigbee sensors hold occupancy for 90 s,
so raw event counts are not comparable. These figures are: visits to a room (motion
activity in a room with pauses shorter than `VISIT_GAP_S` is one visit; a toilet counts as
bathroom), night toilet visits,
the rising time and its spread, the daytime pauses of all sensors (what an inactivity check
sees), and front-door openings. Days on
which the home was (nearly) empty are left out, so a holiday does not drag the medians down.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from dagritme.dataset import Dataset
from dagritme.models import Event, Kind, Room
from firmware_sim.home import SimulatedHome
from firmware_sim.personas import persona

VISIT_GAP_S = 300.0
NIGHT_VISIT_GAP_S = 600.0
NIGHT_HOURS = range(0, 5)
DAYTIME_HOURS = range(7, 22)
SILENCE_MIN_S = 300.0
RISING_FROM_H = 4.5
DAY_ROOMS = frozenset({Room.KITCHEN, Room.LIVING})
WASH_ROOMS = frozenset({Room.BATHROOM, Room.TOILET})
# A day with fewer activations than this share of the median day is an empty home.
ACTIVE_DAY_SHARE = 0.3


@dataclass(frozen=True, slots=True)
class HomeProfile:
    """Figures of one home's routine, from its events."""

    days: int
    visits_per_day: dict[Room, float] = field(default_factory=dict)
    night_toilet_per_night: float = 0.0
    rising_median_h: float = 0.0
    rising_spread_h: float = 0.0  # interquartile range
    silences_per_day: float = 0.0  # daytime pauses of all sensors longer than SILENCE_MIN_S
    silence_p50_min: float = 0.0
    silence_p90_min: float = 0.0
    longest_silence_min: float = 0.0  # median over days of the day's longest pause
    door_openings_per_day: float = 0.0
    has_front_door: bool = False


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def profile(events: Iterable[Event], tz: ZoneInfo) -> HomeProfile:
    """The figures of a home from its canonical events (any order)."""
    materialised = list(events)
    has_front_door = any(e.is_exterior_door for e in materialised)
    timeline = sorted(((e.ts.astimezone(tz), e) for e in materialised), key=_by_time)
    per_day: dict[date, int] = defaultdict(int)
    for local, event in timeline:
        if event.active:
            per_day[local.date()] += 1
    if not per_day:
        return HomeProfile(days=0)
    threshold = ACTIVE_DAY_SHARE * statistics.median(per_day.values())
    active_days = sorted(d for d, n in per_day.items() if n >= threshold)
    active = set(active_days)
    kept = [(local, e) for local, e in timeline if local.date() in active]

    visits: dict[Room, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    last_in_room: dict[Room, datetime] = {}
    night: dict[date, int] = defaultdict(int)
    last_night: datetime | None = None
    rising: dict[date, float] = {}
    doors: dict[date, int] = defaultdict(int)
    for local, event in kept:
        room = Room.BATHROOM if event.room is Room.TOILET else event.room
        if event.kind is Kind.MOTION:
            # The last activity of a room is its last ON or OFF: a Zigbee sensor holds
            # occupancy while someone moves, a CASAS sensor pulses; both end in an OFF.
            previous = last_in_room.get(room)
            last_in_room[room] = local
            if not event.active:
                continue
            if previous is None or (local - previous).total_seconds() > VISIT_GAP_S:
                visits[room][local.date()] += 1
            if room in WASH_ROOMS and local.hour in NIGHT_HOURS:
                if last_night is None or (local - last_night).total_seconds() > NIGHT_VISIT_GAP_S:
                    night[local.date()] += 1
                last_night = local
        if not event.active:
            continue
        if event.is_exterior_door:
            doors[local.date()] += 1
        hour = local.hour + local.minute / 60
        if event.room in DAY_ROOMS and hour >= RISING_FROM_H and local.date() not in rising:
            rising[local.date()] = hour

    silences: list[float] = []
    longest: dict[date, float] = defaultdict(float)
    for (a, _), (b, _) in zip(kept, kept[1:], strict=False):
        pause = (b - a).total_seconds()
        if a.date() == b.date() and a.hour in DAYTIME_HOURS and pause > SILENCE_MIN_S:
            silences.append(pause / 60)
            longest[a.date()] = max(longest[a.date()], pause / 60)
    rises = list(rising.values())
    return HomeProfile(
        days=len(active_days),
        visits_per_day={
            room: statistics.median(counts.get(d, 0) for d in active_days)
            for room, counts in visits.items()
        },
        night_toilet_per_night=sum(night.get(d, 0) for d in active_days) / len(active_days),
        rising_median_h=statistics.median(rises) if rises else 0.0,
        rising_spread_h=_quantile(rises, 0.75) - _quantile(rises, 0.25),
        silences_per_day=len(silences) / len(active_days),
        silence_p50_min=_quantile(silences, 0.5),
        silence_p90_min=_quantile(silences, 0.9),
        longest_silence_min=statistics.median(longest.get(d, 0.0) for d in active_days),
        door_openings_per_day=statistics.median(doors.get(d, 0) for d in active_days),
        has_front_door=has_front_door,
    )


def _by_time(item: tuple[datetime, Event]) -> datetime:
    return item[0]


@dataclass(frozen=True, slots=True)
class Check:
    """One figure compared, with the tolerance it must meet."""

    figure: str
    real: float
    simulated: float
    tolerance: str
    ok: bool


def _ratio_check(figure: str, real: float, sim: float, factor: float, floor: float) -> Check:
    # Within a factor either way, or within `floor` absolute for small counts.
    ok = abs(sim - real) <= floor or (real > 0 and 1 / factor <= sim / real <= factor)
    return Check(figure, real, sim, f"x{factor:g} or ±{floor:g}", ok)


def _abs_check(figure: str, real: float, sim: float, within: float, unit: str) -> Check:
    tolerance = f"±{within:g} {unit}".strip()
    return Check(figure, real, sim, tolerance, abs(sim - real) <= within)


def compare(real: HomeProfile, simulated: HomeProfile) -> list[Check]:
    """Simulated against real, room by room where both homes have a motion sensor."""
    checks = []
    for room in sorted(set(real.visits_per_day) & set(simulated.visits_per_day)):
        checks.append(
            _ratio_check(
                f"{room.value} visits/day",
                real.visits_per_day[room],
                simulated.visits_per_day[room],
                1.6,
                4.0,
            )
        )
    checks += [
        _abs_check(
            "night toilet visits/night",
            real.night_toilet_per_night,
            simulated.night_toilet_per_night,
            0.6,
            "",
        ),
        _abs_check("rising time, median (h)", real.rising_median_h, simulated.rising_median_h,
                   0.75, "h"),
        _ratio_check("rising time, IQR (h)", real.rising_spread_h, simulated.rising_spread_h,
                     2.5, 0.3),
        _ratio_check("daytime pauses > 5 min per day", real.silences_per_day,
                     simulated.silences_per_day, 1.6, 4.0),
        _ratio_check("daytime pause, median (min)", real.silence_p50_min,
                     simulated.silence_p50_min, 1.6, 3.0),
        _ratio_check("daytime pause, p90 (min)", real.silence_p90_min,
                     simulated.silence_p90_min, 1.6, 10.0),
        _ratio_check("longest daytime pause (min)", real.longest_silence_min,
                     simulated.longest_silence_min, 1.6, 20.0),
    ]  # fmt: skip
    if real.has_front_door and simulated.has_front_door:
        checks.append(
            _ratio_check("front door openings/day", real.door_openings_per_day,
                         simulated.door_openings_per_day, 2.0, 3.0)
        )  # fmt: skip
    return checks


def markdown_table(title: str, real_days: int, sim_days: int, checks: Sequence[Check]) -> str:
    lines = [
        f"**{title}** (real: {real_days} active days; simulated: {sim_days} days)",
        "",
        "| figure | real | simulated | tolerance | ok |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    for check in checks:
        mark = "yes" if check.ok else "**no**"
        lines.append(
            f"| {check.figure} | {check.real:.2f} | {check.simulated:.2f} | "
            f"{check.tolerance} | {mark} |"
        )
    return "\n".join(lines) + "\n"


# Which persona is calibrated against which real home (dataset folder name).
CALIBRATION_PAIRS: dict[str, str] = {
    "casas-al-smarthome": "typical",
    "casas-tm000": "early_riser",
}
CALIBRATION_DAYS = 90
CALIBRATION_SEED = 1


@dataclass(frozen=True, slots=True)
class Calibration:
    dataset: str
    persona: str
    real: HomeProfile
    simulated: HomeProfile
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def markdown(self) -> str:
        title = f"{self.dataset} vs simulated persona `{self.persona}`"
        return markdown_table(title, self.real.days, self.simulated.days, self.checks)


def calibrate(
    dataset_folder: Path,
    persona_name: str,
    *,
    days: int = CALIBRATION_DAYS,
    seed: int = CALIBRATION_SEED,
    tz: ZoneInfo | None = None,
) -> Calibration:
    """Profile a real dataset and a simulated home of `persona_name`, and compare them."""
    zone = tz or ZoneInfo("Europe/Amsterdam")
    real = profile(Dataset.load(dataset_folder).events("calibration", zone), zone)
    home = SimulatedHome("calibration", persona(persona_name), seed=seed, tz=zone)
    start = datetime(2026, 1, 5, tzinfo=zone)
    simulated = profile(home.events(start, start + timedelta(days=days)), zone)
    return Calibration(dataset_folder.name, persona_name, real, simulated, compare(real, simulated))
