from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from dagritme.models import (
    AlertStatus,
    AlertType,
    Availability,
    DeviceHealth,
    Feedback,
    Resolution,
    Room,
    Severity,
    Value,
)
from detector.config import DetectorConfig
from detector.core import Detector
from detector.synthetic import SyntheticHome
from tests.detector.helpers import (
    AMSTERDAM,
    HOUSEHOLD,
    START,
    door,
    local,
    motion,
    opened,
    replay,
    warmed_up,
)


def test_regular_weeks_raise_no_alert_and_learning_completes() -> None:
    detector, _, _, alerts = warmed_up(days=21)
    assert opened(alerts) == []
    assert detector.learning_progress(HOUSEHOLD) == 1.0
    norms = detector.norms(HOUSEHOLD)
    assert norms.learned
    # learned daytime limits are tighter than the 6 h cold-start default
    assert float(norms.inactivity_limit[4].max()) < 360


def test_learning_progress_grows_during_the_first_week() -> None:
    home = SyntheticHome(HOUSEHOLD, AMSTERDAM, seed=1)
    detector = Detector(DetectorConfig())
    assert detector.learning_progress(HOUSEHOLD) == 0.0
    replay(detector, home.events(START, 4))
    assert 0.3 < detector.learning_progress(HOUSEHOLD) < 1.0


def test_daytime_fall_alerts_within_hours_with_an_explanation_and_auto_resolves() -> None:
    detector, home, day, _ = warmed_up()
    fall = local(day, time(14, 0))
    events = [e for e in home.day_events(day) if e.ts < fall]
    alerts = replay(detector, events, until=fall + timedelta(hours=5))
    inactivity = opened(alerts, AlertType.INACTIVITY)
    assert len(inactivity) == 1, "one open alert per type, however many ticks pass"
    alert = inactivity[0]
    assert alert.ts - fall <= timedelta(hours=3)
    assert alert.severity is Severity.URGENT
    assert "No movement" in alert.message or "no movement" in alert.message
    assert "less than once a month" in alert.message
    assert alert.evidence.figures["silence_min"] >= alert.evidence.figures["limit_min"]
    rare = re.search(r"quiet spell of (?:(\d+) h ?)?(?:(\d+) min)? or more", alert.message)
    assert rare is not None, alert.message
    rare_min = int(rare[1] or 0) * 60 + int(rare[2] or 0)
    assert rare_min <= alert.evidence.figures["silence_min"], "never rarer than what happened"

    back = detector.observe(motion(Room.LIVING, fall + timedelta(hours=6)))
    assert [a.alert_id for a in back] == [alert.alert_id]
    assert back[0].status is AlertStatus.RESOLVED
    assert back[0].resolution is Resolution.AUTO
    assert back[0].resolved_ts == fall + timedelta(hours=6)


def test_missing_morning_raises_not_up_stating_the_usual_time() -> None:
    detector, home, day, _ = warmed_up()
    night_only = [e for e in home.day_events(day) if e.ts < local(day, time(6, 0))]
    alerts = replay(detector, night_only, until=local(day, time(12, 0)))
    not_up = opened(alerts, AlertType.NOT_UP)
    assert len(not_up) == 1
    assert not_up[0].message.startswith("Usually up by ")
    assert "of the last" in not_up[0].message
    assert not_up[0].ts <= local(day, time(10, 0))


def test_front_door_at_night_alerts_but_daytime_outings_do_not() -> None:
    detector, _, day, _ = warmed_up()
    night = local(day, time(2, 30))
    alerts = replay(
        detector, [door(night, Value.OPEN), door(night + timedelta(seconds=30), Value.CLOSED)]
    )
    night_door = opened(alerts, AlertType.NIGHT_DOOR)
    assert len(night_door) == 1
    assert "02:30" in night_door[0].message
    # back inside: resolved
    resolved = detector.observe(motion(Room.LIVING, night + timedelta(minutes=5)))
    assert [a.type for a in resolved] == [AlertType.NIGHT_DOOR]


def test_leaving_by_the_front_door_is_out_of_home_not_inactivity() -> None:
    detector, home, day, _ = warmed_up()
    leave = local(day, time(13, 0))
    events = [e for e in home.day_events(day) if e.ts < leave - timedelta(minutes=5)]
    events += [
        motion(Room.ENTRANCE, leave - timedelta(minutes=1), 1),
        door(leave, Value.OPEN, 2),
        door(leave + timedelta(seconds=20), Value.CLOSED, 3),
    ]
    alerts = replay(detector, events, until=leave + timedelta(hours=20))
    assert opened(alerts, AlertType.INACTIVITY) == []
    not_returned = opened(alerts, AlertType.NOT_RETURNED)
    assert len(not_returned) == 1
    assert "out since 13:00" in not_returned[0].message


def test_isolated_events_while_out_do_not_end_the_absence() -> None:
    detector, _, day, _ = warmed_up()
    leave = local(day, time(9, 0))
    events = [
        motion(Room.LIVING, leave - timedelta(minutes=3), 1),
        motion(Room.ENTRANCE, leave - timedelta(minutes=1), 2),
        door(leave, Value.OPEN, 3),
        door(leave + timedelta(seconds=20), Value.CLOSED, 4),
        motion(Room.KITCHEN, leave + timedelta(hours=3), 5),  # a ghost
    ]
    alerts = replay(detector, events, until=leave + timedelta(hours=8))
    assert opened(alerts, AlertType.INACTIVITY) == []


def test_dst_changes_raise_no_alert_in_amsterdam() -> None:
    home = SyntheticHome(HOUSEHOLD, AMSTERDAM, seed=11)
    detector = Detector(DetectorConfig())
    spring = replay(detector, home.events(date(2026, 3, 10), 24))  # 29 March
    assert opened(spring) == []
    detector = Detector(DetectorConfig())
    autumn = replay(detector, home.events(date(2026, 10, 10), 24))  # 25 October
    assert opened(autumn) == []


def test_duplicate_events_are_ignored() -> None:
    detector = Detector(DetectorConfig())
    event = motion(Room.KITCHEN, datetime(2026, 1, 5, 10, tzinfo=UTC))
    detector.observe(event)
    before = detector.snapshot(HOUSEHOLD)
    detector.observe(event)
    assert detector.snapshot(HOUSEHOLD) == before


def test_false_alarm_feedback_relaxes_that_households_limit() -> None:
    detector, _, _, _ = warmed_up()
    detector.restore(HOUSEHOLD, detector.snapshot(HOUSEHOLD))  # norms of the same data
    before = detector.norms(HOUSEHOLD).inactivity_limit.copy()
    detector.feedback(
        Feedback(
            household=HOUSEHOLD,
            alert_id="a" * 24,
            type=AlertType.INACTIVITY,
            resolution=Resolution.FALSE_ALARM,
            ts=datetime(2026, 2, 20, tzinfo=UTC),
        )
    )
    after = detector.norms(HOUSEHOLD).inactivity_limit
    assert (after >= before).all()
    daytime = before < 480
    assert (after[daytime] > before[daytime]).all()


def test_battery_and_sensor_health_open_and_resolve_technical_alerts() -> None:
    detector = Detector(DetectorConfig())
    ts = datetime(2026, 1, 5, 10, tzinfo=UTC)
    low = DeviceHealth(household=HOUSEHOLD, sensor="front_door", ts=ts, battery=9)
    [alert] = detector.observe_health(low)
    assert alert.type is AlertType.BATTERY_LOW
    assert "front_door" in alert.message
    assert detector.observe_health(low.model_copy(update={"ts": ts + timedelta(hours=1)})) == []
    ok = DeviceHealth(
        household=HOUSEHOLD, sensor="front_door", ts=ts + timedelta(days=1), battery=100
    )
    [fixed] = detector.observe_health(ok)
    assert fixed.alert_id == alert.alert_id
    assert fixed.status is AlertStatus.RESOLVED

    gone = DeviceHealth(
        household=HOUSEHOLD, sensor="hall_motion", ts=ts, availability=Availability.OFFLINE
    )
    [offline] = detector.observe_health(gone)
    assert offline.type is AlertType.SENSOR_OFFLINE


def test_gateway_offline_alerts_after_grace_and_pauses_silence_checks() -> None:
    detector, home, day, _ = warmed_up()
    down = local(day, time(13, 0))
    events = [e for e in home.day_events(day) if e.ts < down]
    replay(detector, events)
    assert detector.observe_gateway(HOUSEHOLD, False, down) == []
    alerts = []
    now = down
    while now < down + timedelta(hours=6):
        now += timedelta(minutes=1)
        alerts += detector.tick(now)
    assert [a.type for a in opened(alerts)] == [AlertType.GATEWAY_OFFLINE]
    assert opened(alerts)[0].ts == down + timedelta(minutes=5)
    [back] = detector.observe_gateway(HOUSEHOLD, True, now)
    assert back.status is AlertStatus.RESOLVED


def test_snapshot_is_small_and_restoring_mid_replay_changes_nothing() -> None:
    home = SyntheticHome(HOUSEHOLD, AMSTERDAM, seed=5)
    events = list(home.events(START, 20))
    fall = local(START + timedelta(days=19), time(15, 0))
    events = [e for e in events if not fall <= e.ts < fall + timedelta(hours=4)]

    straight = Detector(DetectorConfig())
    expected = replay(straight, events)

    first = Detector(DetectorConfig())
    half = len(events) // 2
    got = replay(first, events[:half])
    blob = first.snapshot(HOUSEHOLD)
    assert len(blob) <= 65_536
    second = Detector(DetectorConfig())  # "restarted process"
    second.restore(HOUSEHOLD, blob)
    got += list(replay(second, events[half - 1 :]))  # one event redelivered after restart
    assert [(a.alert_id, a.status) for a in got] == [(a.alert_id, a.status) for a in expected]
    assert opened(expected, AlertType.INACTIVITY), "the injected silence is detected"
    assert second.snapshot(HOUSEHOLD) == straight.snapshot(HOUSEHOLD)


def test_status_summarises_a_household_for_the_dashboard() -> None:
    detector, _, _, _ = warmed_up()
    status = detector.status(HOUSEHOLD)
    assert status.learning_progress == 1.0
    assert status.last_activity is not None
    assert status.usual_rising is not None
    assert status.open_alerts == 0
