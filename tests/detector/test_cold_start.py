"""Cold start: before the rhythm is learned, the not-up limit moves with the risings seen."""

from __future__ import annotations

import math
from datetime import time, timedelta

import numpy as np
import numpy.typing as npt
import pytest

from dagritme.models import Alert, AlertType, Room
from detector.config import DetectorConfig, Thresholds
from detector.core import Detector
from detector.norms import cold_start_rising
from detector.synthetic import Routine, SyntheticHome
from tests.detector.helpers import AMSTERDAM, HOUSEHOLD, START, local, motion, opened, replay

EARLY = Routine(rising=time(6, 0), jitter_min=10)


def _risings(*clock: str) -> npt.NDArray[np.int32]:
    return np.array([int(c[:2]) * 60 + int(c[3:]) for c in clock], dtype=np.int32)


def test_fewer_risings_than_the_minimum_keep_the_default() -> None:
    th = Thresholds()
    assert cold_start_rising(_risings(), th).limit_minute == th.not_up_default_minute
    norm = cold_start_rising(_risings("06:00"), th)
    assert norm.limit_minute == th.not_up_default_minute
    assert norm.usual_minute is None
    assert not norm.partial


def test_each_rising_seen_pulls_the_limit_further_towards_the_learned_one() -> None:
    th = Thresholds()
    seen = ["06:05", "05:55", "06:10", "06:00", "06:15", "05:50"]
    limits = [cold_start_rising(_risings(*seen[:n]), th).limit_minute for n in range(2, 7)]
    assert limits == sorted(limits, reverse=True)
    assert len(set(limits)) == len(limits), "every day counts"
    # never earlier than the limit the learned rule would set, never later than the default
    assert all(th.not_up_earliest_minute <= limit < th.not_up_default_minute for limit in limits)
    # two risings: n / (n + 2) = half way from 11:00 to the latest seen + 60 min (07:05)
    assert limits[0] == math.ceil((th.not_up_default_minute + 7 * 60 + 5) / 2)
    norm = cold_start_rising(_risings(*seen), th)
    assert norm.partial
    assert (norm.usual_minute, norm.on_days, norm.days) == (6 * 60 + 15, 6, 6)


def test_risings_well_before_ten_never_wait_longer_than_the_fixed_rule() -> None:
    th = Thresholds()
    # 08:10 + 60 min gives 09:10; half way from 11:00 would be 10:05, the cap keeps 10:00
    norm = cold_start_rising(_risings("08:00", "08:10"), th)
    assert norm.limit_minute == th.not_up_cold_start_cap_minute == 600
    # 09:20 + 60 min gives 10:20: later than the cap, so the cap gives way to it
    assert cold_start_rising(_risings("09:00", "09:20"), th).limit_minute == 9 * 60 + 20 + 60


def test_a_late_riser_is_never_judged_later_than_the_default() -> None:
    th = Thresholds()
    norm = cold_start_rising(_risings("10:40", "11:20", "10:55"), th)
    assert norm.limit_minute == th.not_up_default_minute
    assert not norm.partial


def test_partial_learning_can_be_switched_off() -> None:
    th = Thresholds(not_up_cold_start_min_risings=30)
    norm = cold_start_rising(_risings("06:00", "06:10", "05:50"), th)
    assert norm.limit_minute == th.not_up_default_minute


def _missing_morning_alert(config: DetectorConfig, days: int) -> tuple[Detector, list[Alert]]:
    home = SyntheticHome(HOUSEHOLD, AMSTERDAM, seed=5, routine=EARLY)
    detector = Detector(config)
    replay(detector, home.events(START, days))
    day = START + timedelta(days=days)
    # last night's bedroom activity, then nothing: the resident does not get up
    events = [e for e in home.day_events(day) if e.ts < local(day, time(3))]
    alerts = replay(detector, events, until=local(day, time(12)))
    return detector, opened(alerts, AlertType.NOT_UP)


def test_an_early_riser_missing_a_morning_is_noticed_before_the_default_in_the_first_week() -> None:
    detector, [alert] = _missing_morning_alert(DetectorConfig(), days=3)
    assert detector.learning_progress(HOUSEHOLD) < 1.0
    at = alert.ts.astimezone(AMSTERDAM)
    assert at.time() < time(10), "sooner than the fixed 10:00 rule"
    assert "Still learning" in alert.message
    assert "so far up by" in alert.message
    # with partial learning switched off it waits for the 11:00 default
    config = DetectorConfig(thresholds=Thresholds(not_up_cold_start_min_risings=30))
    _, [default_alert] = _missing_morning_alert(config, days=3)
    assert default_alert.ts.astimezone(AMSTERDAM).time() == time(11)
    assert "so far up by" not in default_alert.message


@pytest.mark.parametrize(("days_before", "learned"), [(2, True), (10, False)])
def test_a_rising_after_a_not_up_alert_is_learned_only_in_the_learning_period(
    days_before: int, learned: bool
) -> None:
    home = SyntheticHome(HOUSEHOLD, AMSTERDAM, seed=5, routine=EARLY)
    detector = Detector(DetectorConfig())
    replay(detector, home.events(START, days_before))
    day = START + timedelta(days=days_before)
    night = [e for e in home.day_events(day) if e.ts < local(day, time(3))]
    late = local(day, time(11, 30))
    up = [motion(Room.KITCHEN, late + timedelta(minutes=m), seq=m) for m in range(0, 24, 2)]
    alerts = replay(detector, [*night, *up], until=local(day, time(23, 59)))
    assert opened(alerts, AlertType.NOT_UP), "the late morning raised not_up"
    replay(detector, home.day_events(day + timedelta(days=1))[:5])  # closes the day
    state = detector._homes[HOUSEHOLD].state
    assert (int(11.5 * 60) in state.hist_rising.tolist()) is learned
