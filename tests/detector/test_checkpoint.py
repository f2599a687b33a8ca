"""Checkpoints write only the households that changed, each file replaced atomically."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

from dagritme import topics
from dagritme.clock import ManualClock
from dagritme.models import Event, Room, make_event_id, payload_json
from detector.config import DetectorConfig
from detector.core import Detector
from detector.service import DetectorService
from tests.detector.helpers import HOUSEHOLD, START, local, motion


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
