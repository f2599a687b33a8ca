"""Anomaly scenarios injectable at a given day and time, and their ground truth.

A scenario is requested as `NAME[@DAY[THH:MM]]` (DAY counts from 0, the first simulated day;
the time is the home's local wall clock). Each kind is a frozen `ScenarioKind` in `SCENARIOS`
that says what it does (`Effect`), its defaults and which alert the detector should raise;
resolving a request for one home gives an `Injection` with exact UTC bounds, and every
injection is written to the ground-truth JSONL file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dagritme.models import AlertType


class Effect(StrEnum):
    """Which layer of the simulation a scenario bends."""

    SILENCE = "silence"  # the resident makes no movement a sensor sees (fall)
    NOT_UP = "not_up"  # stays in bed past the usual rising time
    AWAY = "away"  # leaves through the front door and comes back at the end
    BATHROOM = "bathroom"  # one long, still bathroom stay
    VISITORS = "visitors"  # a second person moves through the home
    TREND = "trend"  # a slow drift of the routine over weeks
    BATTERY = "battery"  # a battery drains to empty, then the device goes quiet
    DEVICE_OFFLINE = "device_offline"  # one device stops reporting
    GATEWAY_OFFLINE = "gateway_offline"  # nothing leaves the home
    NONE = "none"  # the world changes, the routine does not (daylight saving)


@dataclass(frozen=True, slots=True)
class ScenarioKind:
    name: str
    effect: Effect
    expected: AlertType | None
    default_at: time
    default_duration: timedelta
    description: str
    subtype: str | None = None
    default_day_from_end: int = 1  # default DAY counts back from the last simulated day


SCENARIOS: dict[str, ScenarioKind] = {
    kind.name: kind
    for kind in (
        ScenarioKind("fall", Effect.SILENCE, AlertType.INACTIVITY, time(10, 30),
                     timedelta(hours=10), "silence from the given time: a possible fall"),
        ScenarioKind("not_up", Effect.NOT_UP, AlertType.NOT_UP, time(8, 0),
                     timedelta(hours=4), "stays in bed hours past the usual rising time"),
        ScenarioKind("night_wandering", Effect.AWAY, AlertType.NIGHT_DOOR, time(3, 10),
                     timedelta(minutes=25), "goes out through the front door at night"),
        ScenarioKind("not_returned", Effect.AWAY, AlertType.NOT_RETURNED, time(10, 0),
                     timedelta(hours=9), "goes out and stays out far longer than usual"),
        ScenarioKind("bathroom_long", Effect.BATHROOM, AlertType.BATHROOM_LONG, time(15, 0),
                     timedelta(minutes=100), "a long, still stay in the bathroom"),
        ScenarioKind("trend_night_toilet", Effect.TREND, AlertType.TREND, time(0, 0),
                     timedelta(days=21), "night toilet visits rise over three weeks",
                     subtype="night_toilet", default_day_from_end=28),
        ScenarioKind("trend_rising", Effect.TREND, AlertType.TREND, time(0, 0),
                     timedelta(days=21), "rising time drifts later over three weeks",
                     subtype="rising_time", default_day_from_end=28),
        ScenarioKind("trend_kitchen", Effect.TREND, AlertType.TREND, time(0, 0),
                     timedelta(days=21), "kitchen use falls over three weeks",
                     subtype="kitchen", default_day_from_end=28),
        ScenarioKind("trend_bedtime", Effect.TREND, AlertType.TREND, time(0, 0),
                     timedelta(days=21), "bedtime drifts later over three weeks",
                     subtype="bedtime", default_day_from_end=28),
        ScenarioKind("battery_dying", Effect.BATTERY, AlertType.BATTERY_LOW, time(8, 0),
                     timedelta(days=3), "a battery drains to empty within days"),
        ScenarioKind("sensor_offline", Effect.DEVICE_OFFLINE, AlertType.SENSOR_OFFLINE,
                     time(11, 0), timedelta(days=2), "one sensor stops reporting"),
        ScenarioKind("gateway_offline", Effect.GATEWAY_OFFLINE, AlertType.GATEWAY_OFFLINE,
                     time(13, 0), timedelta(hours=3), "the home's radio bridge goes offline"),
        ScenarioKind("visitors", Effect.VISITORS, None, time(14, 0), timedelta(hours=2),
                     "visitors come and go through the front door"),
        ScenarioKind("holiday", Effect.AWAY, None, time(9, 30), timedelta(days=5),
                     "away for days, a planned absence", default_day_from_end=7),
        ScenarioKind("daylight_saving", Effect.NONE, None, time(3, 0), timedelta(0),
                     "the clocks change; the routine keeps to the wall clock"),
    )
}  # fmt: skip

_REQUEST = re.compile(
    r"^(?P<name>[a-z_-]+)(?:@(?P<day>\d{1,4})(?:T(?P<hour>\d{1,2}):(?P<minute>\d{2}))?)?$"
)


# Clocks change on a quarter hour everywhere.
_DST_STEP = timedelta(minutes=15)


class ScenarioError(ValueError):
    """A scenario request that cannot be understood."""


@dataclass(frozen=True, slots=True)
class ScenarioRequest:
    """`NAME[@DAY[THH:MM]]` as given on the command line."""

    kind: ScenarioKind
    day: int | None = None
    at: time | None = None

    @property
    def name(self) -> str:
        return self.kind.name


def parse_scenario(text: str) -> ScenarioRequest:
    """Parse `NAME[@DAY[THH:MM]]`.

    >>> parse_scenario("fall@3T10:45").day, parse_scenario("fall@3T10:45").at
    (3, datetime.time(10, 45))
    >>> parse_scenario("night-wandering").name
    'night_wandering'
    """
    match = _REQUEST.match(text.strip())
    if not match:
        raise ScenarioError(f"scenario {text!r} is not NAME[@DAY[THH:MM]]")
    name = match["name"].replace("-", "_")
    if name not in SCENARIOS:
        raise ScenarioError(f"unknown scenario {name!r} (known: {', '.join(sorted(SCENARIOS))})")
    at = None
    if match["hour"] is not None:
        hour, minute = int(match["hour"]), int(match["minute"])
        if hour > 23 or minute > 59:
            raise ScenarioError(f"scenario {text!r}: no such time of day")
        at = time(hour, minute)
    day = int(match["day"]) if match["day"] is not None else None
    return ScenarioRequest(SCENARIOS[name], day, at)


@dataclass(frozen=True, slots=True)
class Injection:
    """A scenario placed in one home at exact times: the ground truth of an evaluation."""

    kind: ScenarioKind
    household: str
    start: datetime  # UTC
    end: datetime  # UTC
    day: date  # local date the scenario starts on
    sensor: str | None = None  # device scenarios: which device

    @property
    def start_s(self) -> float:
        return self.start.timestamp()

    @property
    def end_s(self) -> float:
        return self.end.timestamp()

    def record(self) -> dict[str, Any]:
        return {
            "scenario": self.kind.name,
            "household": self.household,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "expected_alert": self.kind.expected.value if self.kind.expected else None,
            "subtype": self.kind.subtype,
            "sensor": self.sensor,
        }


def resolve(
    request: ScenarioRequest,
    household: str,
    first_day: date,
    days: int,
    tz: ZoneInfo,
    sensor: str | None = None,
) -> Injection:
    """Place a request in a home's calendar: day index and local time to UTC bounds."""
    kind = request.kind
    index = request.day if request.day is not None else max(0, days - kind.default_day_from_end)
    if days and index >= days:
        raise ScenarioError(f"scenario {kind.name}@{index}: only {days} day(s) are simulated")
    day = first_day + timedelta(days=index)
    if kind.effect is Effect.NONE and request.at is None:
        start = dst_change_on(day, tz)
        if start is None:
            raise ScenarioError(
                f"daylight_saving@{index}: the clocks of {tz.key} do not change on {day}"
            )
    else:
        at = request.at or kind.default_at
        start = datetime.combine(day, at).replace(tzinfo=tz).astimezone(UTC)
    return Injection(kind, household, start, start + kind.default_duration, day, sensor)


def dst_change_on(day: date, tz: ZoneInfo) -> datetime | None:
    """The UTC instant the clocks of `tz` change on that local day, if they do."""
    moment = datetime.combine(day, time()).replace(tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time()).replace(tzinfo=tz).astimezone(UTC)
    offset = moment.astimezone(tz).utcoffset()
    while moment < end:
        moment += _DST_STEP
        if moment.astimezone(tz).utcoffset() != offset:
            return moment
    return None


def next_dst_change(after: date, tz: ZoneInfo, within_days: int = 400) -> date | None:
    for offset in range(within_days):
        day = after + timedelta(days=offset)
        if dst_change_on(day, tz) is not None:
            return day
    return None


def write_ground_truth(path: Path, injections: Iterable[Injection]) -> int:
    """One JSON object a line: scenario, household, start, end, expected alert."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as fh:
        for injection in sorted(injections, key=lambda i: (i.start, i.household)):
            fh.write(json.dumps(injection.record(), sort_keys=True) + "\n")
            count += 1
    return count
