"""Slower rhythms: weekly trends, long bathroom stays, restless nights, demo warm-up."""

from __future__ import annotations

from datetime import time, timedelta

from dagritme.models import Alert, AlertType, Room, Severity
from detector.config import DetectorConfig
from detector.core import Detector
from detector.synthetic import Routine, SyntheticHome, warm_up
from tests.detector.helpers import (
    AMSTERDAM,
    HOUSEHOLD,
    START,
    local,
    motion,
    opened,
    replay,
    warmed_up,
)


def test_more_night_toilet_visits_become_a_weekly_trend() -> None:
    detector = Detector(DetectorConfig())
    usual = SyntheticHome(HOUSEHOLD, AMSTERDAM, seed=4)
    alerts = replay(detector, usual.events(START, 21))
    assert opened(alerts, AlertType.TREND) == []
    worse = SyntheticHome(HOUSEHOLD, AMSTERDAM, seed=5, routine=Routine(night_toilet_visits=3))
    alerts = replay(detector, worse.events(START + timedelta(days=21), 8))  # into Monday
    trends = opened(alerts, AlertType.TREND)
    assert [t.subtype for t in trends] == ["night_toilet"]
    assert trends[0].severity is Severity.INFO
    assert "night toilet visits a night" in trends[0].message
    assert trends[0].evidence.figures["recent"] > trends[0].evidence.figures["before"]


def test_a_long_bathroom_occupation_alerts_and_resolves_on_leaving() -> None:
    detector, home, day, _ = warmed_up()
    enter = local(day, time(15, 0))
    events = [e for e in home.day_events(day) if e.ts < enter - timedelta(minutes=2)]
    # still moving in there, on and on: occupation, not a silence
    events += [motion(Room.BATHROOM, enter + timedelta(minutes=m), 1 + m) for m in range(0, 240, 5)]
    alerts = replay(detector, events, until=enter + timedelta(hours=4))
    assert opened(alerts, AlertType.INACTIVITY) == []
    long_stay = opened(alerts, AlertType.BATHROOM_LONG)
    assert len(long_stay) == 1
    assert "Bathroom visits usually end within" in long_stay[0].message
    resolved = detector.observe(motion(Room.LIVING, enter + timedelta(hours=4, minutes=1), 999))
    assert AlertType.BATHROOM_LONG in [a.type for a in resolved]


def test_a_restless_night_is_reported_once_in_the_morning() -> None:
    detector, home, day, _ = warmed_up()
    night = [e for e in home.day_events(day) if e.ts < local(day, time(6, 30))]
    wander = [
        motion(room, local(day, time(1, 0)) + timedelta(minutes=minute), 100 + minute)
        for minute in range(0, 150, 2)
        for room in (Room.LIVING, Room.KITCHEN)
    ]
    alerts = replay(detector, sorted(night + wander, key=lambda e: e.ts))
    alerts += replay(detector, [], until=local(day, time(7, 0)))
    restless = opened(alerts, AlertType.NIGHT_RESTLESS)
    assert len(restless) == 1
    assert restless[0].severity is Severity.INFO
    assert "active minutes" in restless[0].message


def test_warm_up_gives_the_demo_learned_limits() -> None:
    detector = Detector(DetectorConfig())
    until = local(START + timedelta(days=14), time(12, 0))
    fed = warm_up(detector, HOUSEHOLD, AMSTERDAM, until=until, days=14)
    assert fed > 14 * 30
    assert detector.learning_progress(HOUSEHOLD) == 1.0
    # a fall right after the warm-up: the alert comes within a few simulated hours
    fall = until
    alerts: list[Alert] = []
    now = fall
    while now < fall + timedelta(hours=6) and not opened(alerts, AlertType.INACTIVITY):
        now += timedelta(minutes=1)
        alerts += detector.tick(now)
    assert opened(alerts, AlertType.INACTIVITY)
    assert now - fall <= timedelta(hours=3)


def test_a_sparse_home_learns_without_false_alarms_and_still_catches_a_fall() -> None:
    sparse = Routine(day_gap_minutes=(20, 100), outing_probability=0.3)
    home = SyntheticHome(HOUSEHOLD, AMSTERDAM, seed=3, routine=sparse)
    detector = Detector(DetectorConfig())
    alerts = replay(detector, home.events(START, 30))
    assert len(list(home.events(START, 1))) < 100, "about 60 events a day"
    assert opened(alerts) == []
    day = START + timedelta(days=30)
    fall = local(day, time(13, 0))
    events = [e for e in home.day_events(day) if e.ts < fall]
    alerts = replay(detector, events, until=fall + timedelta(hours=8))
    [inactivity] = opened(alerts, AlertType.INACTIVITY)
    assert inactivity.ts - fall <= timedelta(hours=5)


def test_sleeping_in_at_weekends_is_learned_apart_from_weekdays() -> None:
    routine = Routine(rising=time(7, 0), weekend_rising=time(9, 30), jitter_min=10)
    home = SyntheticHome(HOUSEHOLD, AMSTERDAM, seed=8, routine=routine)
    detector = Detector(DetectorConfig())
    alerts = replay(detector, home.events(START, 42))
    # the first Saturday comes in the learning period, when five weekday risings have pulled
    # the limit to about 09:00: one alert on the 09:30 sleep-in, which is then learned, so
    # no weekend alerts again
    not_up = opened(alerts, AlertType.NOT_UP)
    assert [a.ts.astimezone(AMSTERDAM).date() for a in not_up] == [START + timedelta(days=5)]
    weekday, weekend = detector.norms(HOUSEHOLD).rising
    assert weekday.day_kind == "weekdays"
    assert weekend.day_kind == "weekend days"
    assert weekday.usual_minute is not None
    assert weekend.usual_minute is not None
    assert weekend.usual_minute - weekday.usual_minute >= 120
    assert weekday.limit_minute < weekend.limit_minute
