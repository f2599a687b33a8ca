"""Checkpoints write only the households that changed, each file replaced atomically."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from dagritme import topics
from dagritme.clock import ManualClock
from dagritme.models import Event, Room, make_event_id, payload_json
from detector.config import DetectorConfig
from detector.core import Detector
from detector.service import DetectorService
from detector.state import HouseholdState, StateError
from detector.synthetic import SyntheticHome
from tests.detector.helpers import HOUSEHOLD, START, local, motion, replay


def event_in(household: str, room: Room, ts: datetime) -> Event:
    event = motion(room, ts)
    return event.model_copy(
        update={
            "household": household,
            "event_id": make_event_id(household, event.sensor, ts, "on"),
        }
    )


def test_only_changed_households_are_dirty() -> None:
    detector = Detector(DetectorConfig())
    other = "hh-other"
    detector.observe(motion(Room.KITCHEN, local(START, time(9))))
    detector.observe(
        motion(Room.KITCHEN, local(START, time(9))).model_copy(
            update={"household": other, "event_id": "other-1"}
        )
    )
    assert detector.take_dirty() == sorted([HOUSEHOLD, other])
    assert detector.take_dirty() == []
    detector.tick(local(START, time(9, 1)))  # nothing changes in a quiet minute
    assert detector.take_dirty() == []
    duplicate = motion(Room.KITCHEN, local(START, time(9)))
    detector.observe(duplicate)  # a QoS 1 repeat changes nothing
    assert detector.take_dirty() == []
    detector.observe(motion(Room.LIVING, local(START, time(9, 5))))
    assert detector.take_dirty() == [HOUSEHOLD]
    restored = Detector(DetectorConfig())
    restored.restore(HOUSEHOLD, detector.snapshot(HOUSEHOLD))
    assert restored.take_dirty() == [], "a restored state is already on disk"


def test_service_checkpoint_rewrites_only_changed_files(tmp_path: Path) -> None:
    now = local(START, time(9))
    service = DetectorService(DetectorConfig(state_dir=tmp_path), ManualClock(now))
    for household in ("hh-a", "hh-b"):
        event = event_in(household, Room.KITCHEN, now)
        service.handle(topics.events(household), payload_json(event))
    assert service.checkpoint() == 2
    written = {path.name: path.stat().st_mtime_ns for path in tmp_path.glob("*.state")}
    assert set(written) == {"hh-a.state", "hh-b.state"}
    assert service.checkpoint() == 0
    later = event_in("hh-a", Room.LIVING, now + timedelta(minutes=3))
    service.handle(topics.events("hh-a"), payload_json(later))
    assert service.checkpoint() == 1
    assert (tmp_path / "hh-b.state").stat().st_mtime_ns == written["hh-b.state"]
    assert not list(tmp_path.glob("*.tmp")), "temp files are renamed into place"


def _as_version_1(blob: bytes) -> bytes:
    """The same state as a version-1 checkpoint wrote it: silences by 3-hour block."""
    doc = json.loads(zlib.decompress(blob))
    for name in ("gap_hist", "gap_excess"):
        spec = doc["arrays"][name]
        two_hourly = np.frombuffer(base64.b64decode(spec["data"]), spec["dtype"])
        two_hourly = two_hourly.reshape(spec["shape"])
        hourly = np.repeat(two_hourly / 2, 2, axis=0)
        three_hourly = hourly.reshape(8, 3, *two_hourly.shape[1:]).sum(axis=1).astype("f4")
        spec["shape"] = list(three_hourly.shape)
        spec["data"] = base64.b64encode(three_hourly.tobytes()).decode()
    doc["version"] = 1
    doc["scalars"]["last_presence_block"] = 4  # 12:00-15:00
    return zlib.compress(json.dumps(doc).encode())


def test_a_version_1_checkpoint_keeps_what_it_learned() -> None:
    home = SyntheticHome(HOUSEHOLD, ZoneInfo("Europe/Amsterdam"), seed=3)
    detector = Detector(DetectorConfig())
    replay(detector, home.events(START, 10))
    current = HouseholdState.restore(HOUSEHOLD, detector.snapshot(HOUSEHOLD))

    upgraded = HouseholdState.restore(HOUSEHOLD, _as_version_1(detector.snapshot(HOUSEHOLD)))

    assert upgraded.gap_hist.shape == current.gap_hist.shape
    assert upgraded.gap_hist.sum() == pytest.approx(current.gap_hist.sum(), rel=1e-5)
    assert upgraded.gap_excess.sum() == pytest.approx(current.gap_excess.sum(), rel=1e-5)
    # per room and silence length nothing moves, only the time of day is spread out
    np.testing.assert_allclose(
        upgraded.gap_hist.sum(axis=0), current.gap_hist.sum(axis=0), rtol=1e-4
    )
    assert upgraded.days_seen == current.days_seen
    assert upgraded.last_presence_block == 6  # 13:00, the middle of 12:00-15:00
    restored = Detector(DetectorConfig())
    restored.restore(HOUSEHOLD, _as_version_1(detector.snapshot(HOUSEHOLD)))
    assert restored.learning_progress(HOUSEHOLD) == detector.learning_progress(HOUSEHOLD)


def test_an_unknown_checkpoint_version_is_refused() -> None:
    doc = json.loads(zlib.decompress(Detector(DetectorConfig()).snapshot(HOUSEHOLD)))
    doc["version"] = 99
    with pytest.raises(StateError, match="unsupported state version 99"):
        HouseholdState.restore(HOUSEHOLD, zlib.compress(json.dumps(doc).encode()))
