"""The pure daily aggregation: local days across DST, night toilet episodes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dagritme.models import Room
from store.aggregate import Observation, daily_aggregates, day_window
from store.timestamps import to_us

AMS = ZoneInfo("Europe/Amsterdam")


def local(day: date, hour: int, minute: int = 0) -> int:
    return to_us(datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMS))


def test_dst_start_day_is_23_hours_long() -> None:
    window = day_window(date(2026, 3, 29), date(2026, 3, 30), "Europe/Amsterdam")
    assert window.end_utc - window.start_utc == timedelta(hours=23)


def test_events_land_on_their_local_day_across_dst() -> None:
    dst = date(2026, 3, 29)
    observations = [
        Observation(local(dst, 0, 10), Room.KITCHEN, True),
        Observation(local(dst, 23, 50), Room.KITCHEN, True),  # 21:50 UTC, same local day
        Observation(local(dst + timedelta(days=1), 0, 5), Room.KITCHEN, True),
    ]
    days = daily_aggregates(observations, dst, dst + timedelta(days=2), "Europe/Amsterdam")
    assert [d.events for d in days] == [2, 1]


def test_a_visit_spanning_midnight_counts_on_neither_side_twice() -> None:
    day = date(2026, 5, 4)
    observations = [
        Observation(local(day - timedelta(days=1), 23, 55), Room.TOILET, True),
        Observation(local(day, 0, 2), Room.TOILET, True),  # same visit, started yesterday
        Observation(local(day, 2, 0), Room.BEDROOM, True),
        Observation(local(day, 2, 1), Room.BATHROOM, True),  # visit
        Observation(local(day, 2, 3), Room.TOILET, True),  # bathroom -> toilet: same visit
        Observation(local(day, 2, 30), Room.TOILET, False),  # absence ends nothing
        Observation(local(day, 4, 0), Room.TOILET, True),  # quiet for two hours: new visit
        Observation(local(day, 6, 0), Room.TOILET, True),  # 06:00 is no longer night
    ]
    days = daily_aggregates(
        observations, day - timedelta(days=1), day + timedelta(days=1), str(AMS)
    )
    assert [d.night_toilet_visits for d in days] == [0, 2]


def test_unknown_time_zone_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        daily_aggregates([], date(2026, 1, 1), date(2026, 1, 2), "Mars/Olympus")
