"""The pieces that set limits: budget split, tail lightness, outing tail."""

from __future__ import annotations

import numpy as np

from detector.norms import _lightness, _outing_tail, _split_budget
from detector.state import N_BINS


def test_the_false_alarm_budget_is_split_without_exceeding_the_household_total() -> None:
    support = np.array([2000.0, 800.0, 40.0, 5.0])
    supported = support >= 30
    mean_excess = np.array([5.0, 45.0, 30.0, 30.0])
    rate, pooled_rate = _split_budget(1 / 30, support, supported, mean_excess)
    assert float(rate[supported].sum()) <= 1 / 30 + 1e-12
    # the long-tailed, much used context gets the largest share; nobody below a quarter share
    assert int(np.argmax(rate)) == 1
    assert float(rate[supported].min()) >= (1 / 30) / 3 / 4 - 1e-12
    assert pooled_rate == (1 / 30) / 3


def test_a_context_that_never_goes_quiet_borrows_a_lighter_tail() -> None:
    hist = np.zeros((2, N_BINS))
    hist[0, 0] = 2000.0  # kitchen: thousands of short gaps, none of 5 min
    hist[1, 0], hist[1, 1], hist[1, 5] = 800.0, 40.0, 30.0  # living room: dozing
    pooled = hist.sum(axis=0, keepdims=True)
    light = _lightness(hist, pooled, n_rooms=2)
    assert light[0] == 0.25
    assert light[1] == 1.0


def test_outing_limit_follows_the_spread_of_longer_outings() -> None:
    outings = np.array([40, 50, 60, 60, 70, 80, 90, 120, 150, 200], dtype=np.float32)
    strict = _outing_tail(outings, 0.05)
    lenient = _outing_tail(outings, 0.005)
    assert 75 < strict < lenient
    assert lenient > float(outings.max())
