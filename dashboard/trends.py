"""Weekly trends for the nurse: rising time, night toilet visits, kitchen use, activity.

Slow changes show up here before they become a crisis; the figures are per week so that a
single odd day does not dominate.
"""

from __future__ import annotations

import hashlib
import statistics
import threading
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from operator import attrgetter
from zoneinfo import ZoneInfo

from dagritme.models import Room
from dagritme.rhythm import (
    BACK_TO_BED_S,
    MIN_PRESENCE_FOR_DAY,
    NOT_UP_ROOMS,
    RISING_EARLIEST_MINUTE,
    RISING_LATEST_MINUTE,
    Presence,
    RisingTracker,
    minute_clock,
    rising_minute,
)
from store.base import ActivityBucket, DailyAggregate, EventStore

WEEKS = 4
# The rising rule (dagritme.rhythm) answers in whole minutes and measures gaps of 20 and
# 30 minutes: one-minute buckets give the detector's minute, except where the order of the
# rooms within a bucket decides; those stretches are read again in EXACT_BUCKET buckets.
RISING_BUCKET = timedelta(minutes=1)
# Fine enough that two events in one bucket are rare: the order of rooms is then known.
EXACT_BUCKET = timedelta(milliseconds=1)
# How far one fine read reaches: a candidate rising is decided within BACK_TO_BED_S.
REFINE_SPAN = timedelta(seconds=BACK_TO_BED_S) + RISING_BUCKET

Refine = Callable[[datetime, datetime], list[ActivityBucket]]


@dataclass(frozen=True, slots=True)
class WeekTrend:
    week_start: date
    days_with_data: int
    rising_time: str | None  # median rising (dagritme.rhythm), local "HH:MM"
    night_toilet_visits: float | None  # mean per night
    kitchen_per_day: float | None
    events_per_day: float | None


def _median_clock(times: list[datetime], zone: ZoneInfo) -> str | None:
    if not times:
        return None
    return minute_clock(
        statistics.median(t.astimezone(zone).hour * 60 + t.astimezone(zone).minute for t in times)
    )


def _mean(values: list[int]) -> float | None:
    return round(statistics.fmean(values), 1) if values else None


def _observations(
    buckets: Iterable[ActivityBucket], zone: ZoneInfo, *, confirming: bool
) -> Iterator[Presence]:
    """One observation per counted event at its bucket's start, lazily (the rule stops at
    its decision), in one of the two orders of rooms within a bucket that matter most.

    Confirming: the bedroom last (a second event elsewhere confirms a candidate before the
    return to bed). Undoing: the bedroom first, then in turn with the rooms that count for
    the rising (each return to bed undoes the candidate before it).
    """
    for start, group in groupby(buckets, key=attrgetter("start")):
        local = start.astimezone(zone)
        ts, minute = start.timestamp(), local.hour * 60 + local.minute
        rooms = list(group)
        bedroom = [Presence(ts, minute, Room.BEDROOM)] * sum(
            b.count for b in rooms if b.room is Room.BEDROOM
        )
        others = [
            Presence(ts, minute, b.room)
            for b in rooms
            if b.room is not Room.BEDROOM
            for _ in range(b.count)
        ]
        if confirming or not bedroom:
            yield from others
            yield from bedroom
            continue
        counting = [o for o in others if o.room not in NOT_UP_ROOMS]
        yield from (o for o in others if o.room in NOT_UP_ROOMS)
        for index in range(max(len(bedroom), len(counting))):
            yield from bedroom[index : index + 1]
            yield from counting[index : index + 1]


def _mixed(group: list[ActivityBucket]) -> bool:
    """The bedroom and a room that counts for the rising in one bucket."""
    rooms = {b.room for b in group}
    return Room.BEDROOM in rooms and bool(rooms - NOT_UP_ROOMS)


def _refined_rising(
    morning: list[ActivityBucket], zone: ZoneInfo, refine: Refine, morning_end: datetime
) -> int | None:
    """The rule over the coarse buckets, with each stretch from a bucket whose order of
    rooms matters read again in fine buckets (short queries: a decision comes soon)."""
    tracker = RisingTracker()
    fine_until: datetime | None = None
    for start, grouped in groupby(morning, key=attrgetter("start")):
        if fine_until is not None and start < fine_until:
            continue  # already read in fine buckets
        group = list(grouped)
        if _mixed(group):
            fine_until = min(start + REFINE_SPAN, morning_end)
            group = refine(start, fine_until)
        for obs in _observations(group, zone, confirming=True):
            if tracker.observe(obs) is not None:
                return tracker.rising
    return tracker.settle()


def _remembered_rising(
    morning: list[ActivityBucket],
    zone: ZoneInfo,
    refine: Refine,
    morning_end: datetime,
    remembered: tuple[RefinedRisings, str] | None,
) -> int | None:
    if remembered is None:
        return _refined_rising(morning, zone, refine, morning_end)
    memory, scope = remembered
    key = memory.key(f"{scope}|{zone.key}", morning)
    known, minute = memory.recall(key)
    if not known:
        minute = _refined_rising(morning, zone, refine, morning_end)
        memory.remember(key, minute)
    return minute


def _utc_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime, datetime, datetime]:
    """The day's start, its morning window (see `morning_window`) and its end, UTC."""
    morning_start, morning_end = morning_window(day, zone)
    return (
        datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC),
        morning_start.astimezone(UTC),
        morning_end.astimezone(UTC),
        datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC),
    )


class RefinedRisings:
    """Risings that had to be read again in fine buckets, remembered per process so that a
    past morning costs those reads once, not on every page view.

    Keyed by a digest of the household and that morning's coarse buckets: data arriving
    late or erased changes the buckets, hence the key. Only digests and minutes are kept,
    at most `size` of them (least recently used go first).
    """

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._minutes: OrderedDict[bytes, int | None] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(scope: str, morning: list[ActivityBucket]) -> bytes:
        digest = hashlib.blake2b(scope.encode(), digest_size=16)
        for bucket in morning:
            digest.update(f"|{bucket.start.timestamp()}|{bucket.room}|{bucket.count}".encode())
        return digest.digest()

    def recall(self, key: bytes) -> tuple[bool, int | None]:
        with self._lock:
            if key not in self._minutes:
                return False, None
            self._minutes.move_to_end(key)
            return True, self._minutes[key]

    def remember(self, key: bytes, minute: int | None) -> None:
        with self._lock:
            self._minutes[key] = minute
            self._minutes.move_to_end(key)
            while len(self._minutes) > self.size:
                self._minutes.popitem(last=False)


REFINED = RefinedRisings()


def rising_times(
    buckets: list[ActivityBucket],
    tz: str,
    refine: Refine | None = None,
    remembered: tuple[RefinedRisings, str] | None = None,
) -> dict[date, datetime]:
    """Per local day, when the resident rose (the detector's rule, dagritme.rhythm), UTC.

    `buckets` are ordered by start (as the store returns them). A day with too little
    presence was spent away and has no rising, as for the detector. When the answer depends
    on the unknown order of the rooms within a bucket, `refine(start, end)` (if given)
    returns presence in buckets so fine that the order is known, and those decide;
    `remembered` (a memory and the household id) saves doing that again for a morning.
    """
    if not buckets:
        return {}
    zone = ZoneInfo(tz)
    starts = [b.start for b in buckets]
    day = buckets[0].start.astimezone(zone).date()
    last = buckets[-1].start.astimezone(zone).date()
    risings: dict[date, datetime] = {}
    while day <= last:
        day_start, morning_start, morning_end, day_end = _utc_bounds(day, zone)
        whole = buckets[bisect_left(starts, day_start) : bisect_left(starts, day_end)]
        morning = buckets[bisect_left(starts, morning_start) : bisect_left(starts, morning_end)]
        if sum(b.count for b in whole) >= MIN_PRESENCE_FOR_DAY:
            minute = rising_minute(_observations(morning, zone, confirming=True))
            if refine is not None and minute != rising_minute(
                _observations(morning, zone, confirming=False)
            ):
                minute = _remembered_rising(morning, zone, refine, morning_end, remembered)
            if minute is not None:
                risings[day] = _rising_at(day, minute, zone)
        day += timedelta(days=1)
    return risings


def _rising_at(day: date, minute: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone).astimezone(UTC)


def weekly_trends(
    days: list[DailyAggregate],
    last_day: date,
    tz: str,
    rising: dict[date, datetime] | None = None,
) -> list[WeekTrend]:
    """Weeks of 7 local days ending with `last_day`, oldest first; empty days are skipped.

    Without `rising` the rising time falls back to the first presence of the day.
    """
    zone = ZoneInfo(tz)
    by_day = {d.day: d for d in days if d.events > 0}
    trends: list[WeekTrend] = []
    for week in range(WEEKS - 1, -1, -1):
        start = last_day - timedelta(days=7 * week + 6)
        present = [
            by_day[start + timedelta(days=i)]
            for i in range(7)
            if start + timedelta(days=i) in by_day
        ]
        trends.append(
            WeekTrend(
                week_start=start,
                days_with_data=len(present),
                rising_time=_median_clock(
                    [t for t in (_rising(d, rising) for d in present) if t is not None], zone
                ),
                night_toilet_visits=_mean([d.night_toilet_visits for d in present]),
                kitchen_per_day=_mean([d.by_room.get(Room.KITCHEN, 0) for d in present]),
                events_per_day=_mean([d.events for d in present]),
            )
        )
    return trends


def _rising(day: DailyAggregate, rising: dict[date, datetime] | None) -> datetime | None:
    if rising is None:
        return day.first_activity
    return rising.get(day.day)


def household_risings(
    store: EventStore, household: str, tz: str, start: date, end: date
) -> dict[date, datetime]:
    """The risings of local days [start, end), read from the store's presence buckets."""
    zone = ZoneInfo(tz)
    buckets = store.activity(
        household,
        datetime.combine(start, time(0), tzinfo=zone),
        datetime.combine(end, time(0), tzinfo=zone),
        RISING_BUCKET,
    )

    def exact(start_at: datetime, end_at: datetime) -> list[ActivityBucket]:
        return store.activity(household, start_at, end_at, EXACT_BUCKET)

    return rising_times(buckets, tz, exact, (REFINED, household))


def household_trends(store: EventStore, household: str, tz: str, now: datetime) -> list[WeekTrend]:
    """The last four complete local weeks before today."""
    today = now.astimezone(ZoneInfo(tz)).date()
    start = today - timedelta(days=7 * WEEKS)
    return weekly_trends(
        store.daily(household, start, today, tz),
        today - timedelta(days=1),
        tz,
        household_risings(store, household, tz, start, today),
    )


def morning_window(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Where a day's rising is decided: later events only settle an open candidate, which
    the rule does at the end of the observations anyway."""
    midnight = datetime.combine(day, time(0), tzinfo=zone)
    return (
        midnight + timedelta(minutes=RISING_EARLIEST_MINUTE),
        midnight + timedelta(minutes=RISING_LATEST_MINUTE),
    )
