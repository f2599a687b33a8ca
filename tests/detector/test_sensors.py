from __future__ import annotations

import math
from datetime import time, timedelta

from dagritme.models import AlertStatus, AlertType, Room
from detector.core import Detector
from detector.sensors import DAILY_MEAN, rebuild_estimator
from detector.state import HouseholdState
from detector.synthetic import BY_ROOM
from tests.detector.helpers import HOUSEHOLD, local, opened, replay, warmed_up


def test_a_sensor_that_goes_mute_while_the_home_is_active_is_reported_and_recovers() -> None:
    detector, home, day, _ = warmed_up(days=10)
    kitchen = BY_ROOM[Room.KITCHEN].sensor
    two_days = [*home.day_events(day), *home.day_events(day + timedelta(days=1))]
    mute = [e for e in two_days if e.sensor != kitchen]
    alerts = replay(detector, mute, until=local(day + timedelta(days=1), time(23)))
    offline = opened(alerts, AlertType.SENSOR_OFFLINE)
    assert len(offline) == 1
    assert offline[0].evidence.sensors == [kitchen]
    assert "usually reports" in offline[0].message
    # the resident kept moving about: the mute sensor never passes for an inactive resident
    assert opened(alerts, AlertType.INACTIVITY) == []
    back = [e for e in home.day_events(day + timedelta(days=2)) if e.sensor == kitchen][:1]
    resolved = replay(detector, back)
    assert [a.type for a in resolved if a.status is AlertStatus.RESOLVED] == [
        AlertType.SENSOR_OFFLINE
    ]
    assert detector.status(HOUSEHOLD).open_alerts == 0


def test_sleep_and_quiet_days_do_not_make_a_sensor_look_offline() -> None:
    detector, home, day, _ = warmed_up(days=10)
    # a whole day without any event (away) adds no home activity to any sensor's silence
    later = home.day_events(day + timedelta(days=1))
    alerts = replay(detector, later, until=local(day + timedelta(days=1), time(23)))
    assert opened(alerts, AlertType.SENSOR_OFFLINE) == []


def test_sensor_rates_survive_a_snapshot_and_rebuild_their_river_estimator() -> None:
    detector, _, _, _ = warmed_up(days=8)
    blob = detector.snapshot(HOUSEHOLD)
    restored = Detector(detector.config)
    restored.restore(HOUSEHOLD, blob)
    before = detector.snapshot(HOUSEHOLD)
    assert restored.snapshot(HOUSEHOLD) == before
    state = HouseholdState.restore(HOUSEHOLD, restored.snapshot(HOUSEHOLD))
    record = next(iter(state.sensor_records.values()))
    mean = record[DAILY_MEAN]
    assert not math.isnan(mean)
    assert mean > 0
    estimator = rebuild_estimator(mean)
    assert math.isclose(estimator.get(), mean)
    estimator.update(0.0)
    assert estimator.get() < mean
