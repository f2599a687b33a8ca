"""Edge mode: the home's detector reports its learning progress at every sharing level."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from dagritme import topics
from dagritme.models import payload_json
from detector.config import DetectorConfig
from detector.core import Detector
from detector.replay import replay_events
from detector.status import StatusTracker
from detector.synthetic import SENSORS, SyntheticHome
from gateway.config import Sharing
from gateway.edge import LEAVES_THE_HOME, learning_statuses

HOME = "hh-edge"
ZONE = ZoneInfo("Europe/Amsterdam")


@pytest.mark.parametrize("sharing", list(Sharing))
def test_learning_status_leaves_the_home_without_event_data(sharing: Sharing) -> None:
    detector = Detector(DetectorConfig())
    for household in (HOME, "hh-neighbour"):  # one detector per home; this proves the filter
        events = SyntheticHome(household, ZONE, seed=2).events(date(2026, 2, 2), 2)
        for _ in replay_events(detector, events):
            pass
    now = datetime.combine(date(2026, 2, 4), time(0, 10), tzinfo=ZONE).astimezone(UTC)
    detector.tick(now)
    [status] = learning_statuses(StatusTracker(detector), HOME, sharing, now)
    assert (status.household, status.learned) == (HOME, False)
    assert status.learning_days_seen >= 1
    text = payload_json(status).decode()
    assert not any(sensor.sensor in text for sensor in SENSORS)
    assert topics.Channel.EVENTS not in LEAVES_THE_HOME[sharing] or sharing is Sharing.EVENTS
