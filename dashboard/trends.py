"""Weekly trends for the nurse: rising time, night toilet visits, kitchen use, activity.

Slow changes show up here before they become a crisis; the figures are per week so that a
single odd day does not dominate.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dagritme.models import Room
from store.base import ActivityBucket, DailyAggregate, EventStore

WEEKS = 4
# Night-time wandering is not rising: the rising time is the first presence from this hour.
RISING_FROM_HOUR = 5
RISING_BUCKET = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class WeekTrend:
    week_start: date
    days_with_data: int
    rising_time: str | None  # median first presence from 05:00 local, "HH:MM"
    night_toilet_visits: float | None  # mean per night
    kitchen_per_day: float | None
    events_per_day: float | None


def _median_clock(times: list[datetime], zone: ZoneInfo) -> str | None:
    if not times:
        return None
    minutes = statistics.median(
        t.astimezone(zone).hour * 60 + t.astimezone(zone).minute for t in times
    )
    return f"{int(minutes) // 60:02d}:{int(minutes) % 60:02d}"


def _mean(values: list[int]) -> float | None:
    return round(statistics.fmean(values), 1) if values else None


def rising_times(buckets: list[ActivityBucket], tz: str) -> dict[date, datetime]:
    """Per local day, the start of the first bucket with presence from 05:00 on."""
    zone = ZoneInfo(tz)
    first: dict[date, datetime] = {}
    for bucket in buckets:
        local = bucket.start.astimezone(zone)
        if bucket.count > 0 and local.hour >= RISING_FROM_HOUR:
            day = local.date()
            if day not in first or bucket.start < first[day]:
                first[day] = bucket.start
    return first


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


def household_trends(store: EventStore, household: str, tz: str, now: datetime) -> list[WeekTrend]:
    """The last four complete local weeks before today."""
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    start = today - timedelta(days=7 * WEEKS)
    window_start = datetime.combine(start, time(0), tzinfo=zone)
    window_end = datetime.combine(today, time(0), tzinfo=zone)
    buckets = store.activity(household, window_start, window_end, RISING_BUCKET)
    return weekly_trends(
        store.daily(household, start, today, tz),
        today - timedelta(days=1),
        tz,
        rising_times(buckets, tz),
    )
