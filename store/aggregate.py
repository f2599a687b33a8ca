"""Pure aggregation shared by every backend: the same rows give the same answers.

Backends fetch a household's events for a time range in time order and hand them here as
`Observation`s; the daily figures (local days, night toilet visits) are computed once, in
Python, so SQLite and InfluxDB cannot drift apart in their definitions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dagritme.models import Room

from .base import DailyAggregate
from .timestamps import duration_us, from_us, to_us

WET_ROOMS = frozenset({Room.BATHROOM, Room.TOILET})
NIGHT_END = time(6, 0)
# A toilet visit is one episode even when the motion sensor fires several times; a new
# episode starts after presence elsewhere or after this much quiet in the wet rooms.
EPISODE_GAP = timedelta(minutes=15)
_EPISODE_GAP_US = duration_us(EPISODE_GAP)


class Observation(NamedTuple):
    """One stored event reduced to what the aggregates need."""

    ts_us: int  # microseconds since the epoch, UTC (no datetime per row: this is hot)
    room: Room
    active: bool


ROOMS: dict[str, Room] = {room.value: room for room in Room}  # faster than Room(text)


@dataclass(frozen=True, slots=True)
class DayWindow:
    """The UTC bounds of local days [start, end) in one time zone."""

    zone: ZoneInfo
    start_utc: datetime
    end_utc: datetime


def require_aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"unknown time zone: {tz!r}") from err


def local_midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def day_window(start: date, end: date, tz: str) -> DayWindow:
    home = zone(tz)
    return DayWindow(home, local_midnight_utc(start, home), local_midnight_utc(end, home))


def bucket_start(start: datetime, bucket: timedelta, index: int) -> datetime:
    return start + bucket * index


def check_bucket(start: datetime, end: datetime, bucket: timedelta) -> None:
    if bucket <= timedelta(0):
        raise ValueError("bucket must be positive")
    if end < start:
        raise ValueError("end is before start")


def daily_aggregates(
    observations: Iterable[Observation], start: date, end: date, tz: str
) -> list[DailyAggregate]:
    """One aggregate per local day in [start, end), empty days included (zero is data).

    `observations` must be in time order. `events` counts every event of the day,
    `by_room` and first/last activity only presence (motion on, contact on, door open).
    """
    home = zone(tz)
    days = [start + timedelta(days=offset) for offset in range((end - start).days)]
    # UTC bounds of each local day and of its night, computed once per day (DST-safe)
    # rather than converting every event to local time.
    bounds = [
        (
            to_us(local_midnight_utc(day, home)),
            to_us(datetime.combine(day, NIGHT_END, tzinfo=home)),
            to_us(local_midnight_utc(day + timedelta(days=1), home)),
        )
        for day in days
    ]
    totals = [0] * len(days)
    by_room: list[Counter[Room]] = [Counter() for _ in days]
    first: list[int | None] = [None] * len(days)
    last: list[int | None] = [None] * len(days)
    night_visits = [0] * len(days)
    previous_presence: Observation | None = None
    index = 0
    for obs in observations:
        while index < len(days) and obs.ts_us >= bounds[index][2]:
            index += 1
        if index == len(days):
            break
        day_start, night_end, _ = bounds[index]
        if obs.ts_us < day_start:
            continue
        totals[index] += 1
        if not obs.active:
            continue
        by_room[index][obs.room] += 1
        if first[index] is None:
            first[index] = obs.ts_us
        last[index] = obs.ts_us
        if obs.room in WET_ROOMS and obs.ts_us < night_end:
            if _starts_episode(obs, previous_presence):
                night_visits[index] += 1
        previous_presence = obs
    return [
        DailyAggregate(
            day=day,
            events=totals[i],
            by_room=dict(by_room[i]),
            first_activity=_datetime_or_none(first[i]),
            last_activity=_datetime_or_none(last[i]),
            night_toilet_visits=night_visits[i],
        )
        for i, day in enumerate(days)
    ]


def _starts_episode(obs: Observation, previous: Observation | None) -> bool:
    if previous is None or previous.room not in WET_ROOMS:
        return True
    return obs.ts_us - previous.ts_us > _EPISODE_GAP_US


def _datetime_or_none(ts_us: int | None) -> datetime | None:
    return None if ts_us is None else from_us(ts_us)
