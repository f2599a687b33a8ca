"""The detector's bedtimes and risings against a dataset's own activity labels.

CASAS datasets label every event with the activity going on ("Sleep", "Wake_Up", ...).
Where a dataset has those labels, `evaluate` compares the nights the detector learned with
the annotated ones: the bedtime with the evening's first "Sleep", the rising with the
morning's last "Sleep" or "Wake_Up" (a resident who wakes at night and sleeps on is not up
yet). Differences are the detector's time minus the annotated one, in minutes.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from dagritme.dataset import RawLine
from detector.state import HISTORY_DAYS, HouseholdState

SLEEP = "Sleep"
WAKE_UP = "Wake_Up"
EVENING_FROM_HOUR = 18
NIGHT_UNTIL_HOUR = 4
MORNING_UNTIL_HOUR = 12
NOON = timedelta(hours=12)
BEDTIME_TOLERANCE_MIN = 15
RISING_TOLERANCE_MIN = 30


def annotated_nights(lines: Iterable[RawLine]) -> tuple[dict[date, datetime], dict[date, datetime]]:
    """Per evening the first "Sleep" line, per morning the last "Sleep"/"Wake_Up" line."""
    bedtimes: dict[date, datetime] = {}
    risings: dict[date, datetime] = {}
    for line in lines:
        hour = line.local_ts.hour
        if line.label == SLEEP and (hour >= EVENING_FROM_HOUR or hour < NIGHT_UNTIL_HOUR):
            bedtimes.setdefault((line.local_ts - NOON).date(), line.local_ts)
        if line.label in (SLEEP, WAKE_UP) and NIGHT_UNTIL_HOUR <= hour < MORNING_UNTIL_HOUR:
            risings[line.local_ts.date()] = line.local_ts
    return bedtimes, risings


def learned_nights(state: HouseholdState) -> tuple[dict[date, datetime], dict[date, datetime]]:
    """The bedtimes and risings in the detector's day history (the last HISTORY_DAYS days)."""
    bedtimes: dict[date, datetime] = {}
    risings: dict[date, datetime] = {}
    for back in range(1, HISTORY_DAYS):
        slot = (state.ring_pos - back) % HISTORY_DAYS
        day = date.fromordinal(state.day_ordinal - back)
        midnight = datetime.combine(day, time())  # naive: the home's wall clock, as the lines
        if state.hist_bedtime[slot] >= 0:
            bedtimes[day] = midnight + NOON + timedelta(minutes=int(state.hist_bedtime[slot]))
        if state.hist_rising[slot] >= 0:
            risings[day] = midnight + timedelta(minutes=int(state.hist_rising[slot]))
    return bedtimes, risings


def _agreement(
    learned: dict[date, datetime], annotated: dict[date, datetime], tolerance: int
) -> dict[str, Any]:
    diffs = [
        (learned[day] - annotated[day]).total_seconds() / 60
        for day in sorted(learned.keys() & annotated.keys())
    ]
    return {
        "compared": len(diffs),
        "annotated": len(annotated),
        "median_diff_min": round(statistics.median(diffs), 1) if diffs else None,
        f"within_{tolerance}_min": sum(abs(d) <= tolerance for d in diffs),
    }


def compare_with_annotations(
    lines: Iterable[RawLine], state: HouseholdState
) -> dict[str, Any] | None:
    """Bedtime and rising agreement; None when the dataset carries no sleep labels."""
    annotated_bed, annotated_rise = annotated_nights(lines)
    if not annotated_bed and not annotated_rise:
        return None
    learned_bed, learned_rise = learned_nights(state)
    return {
        "bedtime": _agreement(learned_bed, annotated_bed, BEDTIME_TOLERANCE_MIN),
        "rising": _agreement(learned_rise, annotated_rise, RISING_TOLERANCE_MIN),
    }
