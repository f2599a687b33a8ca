"""The detector's learning status: the pure function over replayed days, and when it is due."""

from __future__ import annotations

from datetime import time, timedelta

from dagritme.models import AlertType, DetectorStatus
from detector.alerts import usual_nights
from detector.config import DetectorConfig
from detector.core import Detector
from detector.status import StatusTracker, detector_status, usual_statements
from detector.synthetic import Routine, SyntheticHome
from tests.detector.helpers import AMSTERDAM, HOUSEHOLD, START, local, opened, replay, warmed_up


def test_progress_rises_day_by_day_until_the_rhythm_is_learned() -> None:
    detector = Detector(DetectorConfig())
    home = SyntheticHome(HOUSEHOLD, AMSTERDAM, seed=3)
    needed = detector.config.thresholds.learning_days
    statuses: list[DetectorStatus] = []
    for offset in range(needed + 3):
        day = START + timedelta(days=offset)
        replay(detector, home.day_events(day), until=local(day + timedelta(days=1), time(0, 5)))
        now = local(day + timedelta(days=1), time(0, 5))
        statuses.append(
            detector_status(HOUSEHOLD, now, detector.norms(HOUSEHOLD), detector.config.thresholds)
        )
    seen = [s.learning_days_seen for s in statuses]
    assert seen == sorted(seen), "progress never goes back on regular days"
    assert seen[0] >= 1
    assert seen[-1] == needed
    assert all(s.learning_days_needed == needed for s in statuses)
    learning = [s for s in statuses if not s.learned]
    learned = [s for s in statuses if s.learned]
    assert learning, "a fresh home starts in the learning period"
    assert learned, "a regular home is learned after the learning period"
    assert all(not s.usual and s.progress < 1 for s in learning)
    assert all(s.progress == 1 and s.usual for s in learned)
    assert any(text.startswith("Usually up by ") for text in learned[-1].usual)
    assert detector.learning_progress(HOUSEHOLD) == learned[-1].progress


def test_usual_statements_are_the_words_of_the_alerts() -> None:
    detector, home, day, _ = warmed_up()
    said = usual_statements(detector.norms(HOUSEHOLD))
    night_only = [e for e in home.day_events(day) if e.ts < local(day, time(6, 0))]
    alerts = replay(detector, night_only, until=local(day, time(12, 0)))
    [not_up] = opened(alerts, AlertType.NOT_UP)
    assert not_up.evidence.usual in said


def test_tracker_hands_out_a_status_on_start_then_once_a_day() -> None:
    detector, home, day, _ = warmed_up(days=3)
    tracker = StatusTracker(detector)
    morning = local(day, time(0, 30))
    detector.tick(morning)  # as the service does: the tick rolls the day, then the scan
    [first] = tracker.scan(morning)
    assert first.household == HOUSEHOLD
    assert not first.learned
    assert tracker.scan(morning + timedelta(hours=5)) == [], "nothing changed that day"
    replay(detector, home.day_events(day), until=local(day + timedelta(days=1), time(0, 5)))
    detector.tick(local(day + timedelta(days=1), time(0, 10)))
    [next_day] = tracker.scan(local(day + timedelta(days=1), time(0, 10)))
    assert next_day.learning_days_seen == first.learning_days_seen + 1
    assert tracker.latest() == [next_day]


def test_tracker_spreads_a_midnight_over_scans() -> None:
    detector = Detector(DetectorConfig())
    for index in range(5):
        home = SyntheticHome(f"hh-{index}", AMSTERDAM, seed=index)
        replay(detector, home.day_events(START))
    tracker = StatusTracker(detector, per_scan=2)
    now = local(START + timedelta(days=1), time(0, 10))
    sizes = [len(tracker.scan(now)) for _ in range(4)]
    assert sizes == [2, 2, 1, 0]
    assert tracker.pending == 0
    assert sorted(s.household for s in tracker.latest()) == [f"hh-{i}" for i in range(5)]


def test_rising_is_said_once_until_weekends_have_a_norm_of_their_own() -> None:
    detector = Detector(DetectorConfig())
    replay(detector, SyntheticHome(HOUSEHOLD, AMSTERDAM, seed=3).events(START, 10))
    norms = detector.norms(HOUSEHOLD)
    assert norms.rising[1].day_kind == ""  # two weekend days: the all-days norm
    said = [s for s in usual_statements(norms) if s.startswith("Usually up by")]
    assert len(said) == 1, said
    sleeps_in = Routine(rising=time(7, 0), weekend_rising=time(9, 30), jitter_min=10)
    detector = Detector(DetectorConfig())
    replay(
        detector, SyntheticHome(HOUSEHOLD, AMSTERDAM, seed=8, routine=sleeps_in).events(START, 42)
    )
    said = [s for s in usual_statements(detector.norms(HOUSEHOLD)) if s.startswith("Usually up by")]
    assert len(said) == 2, said
    assert said[0].endswith(" weekdays")
    assert said[1].endswith(" weekend days")


def test_one_active_minute_is_singular() -> None:
    assert usual_nights(1.0).startswith("Usually up to 1 active minute outside")
    assert usual_nights(12.4).startswith("Usually up to 12 active minutes outside")
