from __future__ import annotations

import math
from datetime import time, timedelta

from river import stats

from dagritme.models import AlertStatus, AlertType, Room
from detector.core import Detector
from detector.sensors import DAILY_FADING, DAILY_MEAN, faded_mean
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


def test_sensor_rates_survive_a_snapshot() -> None:
    detector, _, _, _ = warmed_up(days=8)
    blob = detector.snapshot(HOUSEHOLD)
    restored = Detector(detector.config)
    restored.restore(HOUSEHOLD, blob)
    assert restored.snapshot(HOUSEHOLD) == detector.snapshot(HOUSEHOLD)
    state = HouseholdState.restore(HOUSEHOLD, restored.snapshot(HOUSEHOLD))
    record = next(iter(state.sensor_records.values()))
    assert record[DAILY_MEAN] > 0


def test_daily_means_follow_the_river_ewmean_recurrence() -> None:
    counts = [12.0, 0.0, 30.0, 7.0, 7.0, 55.0, 1.0]
    river_mean = stats.EWMean(fading_factor=DAILY_FADING)
    mean = math.nan
    for count in counts:
        river_mean.update(count)
        mean = faded_mean(mean, count)
        assert math.isclose(mean, river_mean.get(), rel_tol=1e-12)
