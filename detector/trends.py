"""Weekly, non-urgent trend checks: last week against two weeks a fortnight earlier.

The comparison skips the week before last: a steady drift over three weeks already fills
the weeks just before the last one, and compared with those it showed at about 60 % of its
size (kitchen use falling to 40 % was never reported; see detector/EVALUATION.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dagritme.models import AlertType, Evidence, Severity
from dagritme.rhythm import minute_clock
from detector.alerts import Finding
from detector.state import HISTORY_DAYS, HouseholdState

RECENT_DAYS = 7
SKIPPED_DAYS = 7  # the week before last: between "before" and "recent"
MIN_RECENT = 4
MIN_BEFORE = 7
MIN_CONSISTENT_DAYS = 5
TREND_WEEKDAY = 0  # evaluated when a Monday starts


@dataclass(frozen=True, slots=True)
class TrendRule:
    """A daily feature whose weekly mean moved too far in the worrying direction."""

    subtype: str
    history: Callable[[HouseholdState], npt.NDArray[np.int32]]
    worse: Callable[[float, float], bool]  # (before, recent) -> worrying change
    direction: int  # +1: an increase is worrying, -1: a decrease
    describe: Callable[[float, float], tuple[str, str]]  # -> (usual, observed)
    # clock times use the median: one morning spent in bed until noon (a not_up day) must
    # not make a week look like a later rising
    center: Callable[[list[int]], float] = lambda days: float(np.mean(days))


def _split(history: npt.NDArray[np.int32], ring_pos: int) -> tuple[list[int], list[int]]:
    ordered = np.roll(history, -ring_pos)  # oldest first
    recent = [int(v) for v in ordered[-RECENT_DAYS:] if v >= 0]
    before = [int(v) for v in ordered[: HISTORY_DAYS - RECENT_DAYS - SKIPPED_DAYS] if v >= 0]
    return before, recent


TREND_RULES: list[TrendRule] = [
    TrendRule(
        "night_toilet",
        lambda s: s.hist_night_toilet,
        lambda before, recent: recent >= before + 1.0 and recent >= 1.5 * before,
        +1,
        lambda before, recent: (
            f"Usually {before:.1f} night toilet visits a night over the weeks before",
            f"{recent:.1f} a night this past week",
        ),
    ),
    TrendRule(
        "activity",
        lambda s: s.hist_presence,
        lambda before, recent: recent <= 0.7 * before,
        -1,
        lambda before, recent: (
            f"Usually about {before:.0f} sensor activations a day",
            f"{recent:.0f} a day this past week",
        ),
    ),
    TrendRule(
        "rising_time",
        lambda s: s.hist_rising_seen,  # alerted mornings too: they are the trend
        lambda before, recent: recent >= before + 45,
        +1,
        lambda before, recent: (
            f"Usually up around {minute_clock(round(before))}",
            f"around {minute_clock(round(recent))} this past week",
        ),
        center=lambda days: float(np.median(days)),
    ),
    TrendRule(
        "bedtime",
        lambda s: s.hist_bedtime,  # minutes after noon, so a night past midnight averages
        lambda before, recent: recent >= before + 60,
        +1,
        lambda before, recent: (
            f"Usually in bed around {minute_clock(round(before) + 720)}",
            f"around {minute_clock(round(recent) + 720)} this past week",
        ),
        center=lambda days: float(np.median(days)),
    ),
    TrendRule(
        "kitchen",
        lambda s: s.hist_kitchen,
        lambda before, recent: before >= 5 and recent <= 0.65 * before,
        -1,
        lambda before, recent: (
            f"Usually about {before:.0f} kitchen activations a day",
            f"{recent:.0f} a day this past week",
        ),
    ),
]


def evaluate_trends(state: HouseholdState) -> dict[str, Finding | None]:
    """Per subtype: a finding when the trend is worrying, None when it is not (or unknown)."""
    results: dict[str, Finding | None] = {}
    for rule in TREND_RULES:
        before, recent = _split(rule.history(state), state.ring_pos)
        if len(before) < MIN_BEFORE or len(recent) < MIN_RECENT:
            results[rule.subtype] = None
            continue
        before_mean, recent_mean = rule.center(before), rule.center(recent)
        # most days of the week must be on the worrying side, not one bad night
        consistent = sum((day - before_mean) * rule.direction > 0 for day in recent)
        if not rule.worse(before_mean, recent_mean) or consistent < MIN_CONSISTENT_DAYS:
            results[rule.subtype] = None
            continue
        usual, observed = rule.describe(before_mean, recent_mean)
        results[rule.subtype] = Finding(
            AlertType.TREND,
            Severity.INFO,
            f"{usual}; {observed}.",
            Evidence(
                usual=usual,
                observed=observed,
                figures={"before": round(before_mean, 2), "recent": round(recent_mean, 2)},
            ),
            subtype=rule.subtype,
        )
    return results
