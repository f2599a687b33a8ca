"""The weekly trend rules on a learned day history: a steady drift is reported at its size."""

from __future__ import annotations

import numpy as np

from detector.state import HISTORY_DAYS, HouseholdState
from detector.trends import evaluate_trends


def _history(values: list[float]) -> np.ndarray:
    """Oldest first, ending with the day just closed (the ring's write position is 0)."""
    assert len(values) == HISTORY_DAYS
    return np.array([round(v) for v in values], dtype=np.int32)


def _drift(start: float, end: float, steady_days: int = 7) -> list[float]:
    """Steady for a week, then a straight drift over the 21 days up to today."""
    days = HISTORY_DAYS - steady_days
    return [start] * steady_days + [start + (end - start) * (i + 1) / days for i in range(days)]


def test_kitchen_use_falling_to_40_percent_over_three_weeks_is_reported() -> None:
    state = HouseholdState("hh")
    state.hist_kitchen = _history(_drift(40, 16))
    state.hist_presence = _history([300.0] * HISTORY_DAYS)
    found = evaluate_trends(state)
    kitchen = found["kitchen"]
    assert kitchen is not None
    assert kitchen.evidence.figures["recent"] < 0.65 * kitchen.evidence.figures["before"]
    assert found["activity"] is None, "the day's activity as a whole did not change"


def test_a_steady_home_has_no_trend() -> None:
    state = HouseholdState("hh")
    rng = np.random.default_rng(4)
    state.hist_kitchen = _history(list(rng.normal(40, 5, HISTORY_DAYS)))
    state.hist_night_toilet = _history(list(rng.poisson(1.0, HISTORY_DAYS).astype(float)))
    state.hist_rising_seen = _history(list(rng.normal(450, 15, HISTORY_DAYS)))
    assert all(finding is None for finding in evaluate_trends(state).values())


def test_mornings_that_raised_not_up_still_make_the_rising_trend() -> None:
    state = HouseholdState("hh")
    risings = _drift(450, 540)
    state.hist_rising_seen = _history(risings)
    # the latest mornings alerted, so the norm did not learn them
    state.hist_rising = _history(risings[:-5] + [-1] * 5)
    trend = evaluate_trends(state)["rising_time"]
    assert trend is not None
    assert trend.message.startswith("Usually up around 07:")
