from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from dagritme.models import (
    Alert,
    DetectorStatus,
    Event,
    Kind,
    Room,
    Value,
    make_event_id,
    payload_json,
)

FIXTURES = Path(__file__).parent / "fixtures"


def test_event_fixture_round_trips() -> None:
    raw = (FIXTURES / "event.json").read_text()
    event = Event.model_validate_json(raw)
    assert event.kind is Kind.DOOR
    assert event.room is Room.ENTRANCE
    assert event.is_exterior_door
    assert event.active
    assert Event.model_validate_json(payload_json(event)) == event


def test_event_times_are_normalised_to_utc() -> None:
    data = json.loads((FIXTURES / "event.json").read_text())
    data["ts"] = "2026-03-29T03:30:00+02:00"
    event = Event.model_validate(data)
    assert event.ts == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert event.ts.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused() -> None:
    data = json.loads((FIXTURES / "event.json").read_text())
    data["ts"] = "2026-03-29T03:30:00"
    with pytest.raises(ValidationError, match="timezone"):
        Event.model_validate(data)


@pytest.mark.parametrize(
    ("kind", "value"), [("door", "on"), ("motion", "open"), ("contact", "closed")]
)
def test_value_must_fit_kind(kind: str, value: str) -> None:
    data = json.loads((FIXTURES / "event.json").read_text())
    data.update(kind=kind, value=value)
    with pytest.raises(ValidationError, match="does not fit kind"):
        Event.model_validate(data)


def test_unknown_keys_are_refused() -> None:
    data = json.loads((FIXTURES / "event.json").read_text())
    data["name"] = "Mrs Jansen"
    with pytest.raises(ValidationError, match="Extra inputs"):
        Event.model_validate(data)


def test_event_id_is_stable_across_time_zone_spelling() -> None:
    ts = datetime(2026, 1, 1, 12, tzinfo=UTC)
    same = ts.astimezone(timezone(timedelta(hours=1)))
    assert make_event_id("hh", "s", ts, Value.ON) == make_event_id("hh", "s", same, Value.ON)
    assert make_event_id("hh", "s", ts, Value.ON) != make_event_id("hh", "s", ts, Value.OFF)


def test_alert_fixture_round_trips() -> None:
    alert = Alert.model_validate_json((FIXTURES / "alert.json").read_text())
    assert "Usually" in alert.message
    assert Alert.model_validate_json(payload_json(alert)) == alert


def test_detector_status_fixture_round_trips() -> None:
    status = DetectorStatus.model_validate_json((FIXTURES / "detector_status.json").read_text())
    assert status.learned
    assert status.usual[0].startswith("Usually up by")
    assert DetectorStatus.model_validate_json(payload_json(status)) == status


@pytest.mark.parametrize(
    "changes",
    [
        {"learned": False},  # all days seen, yet not learned
        {"learning_days_seen": 8},  # counted past the period
        {"progress": 1.5},
        {"learning_days_seen": 3, "progress": 0.43, "learned": False},  # usual while learning
        {"usual": [""]},
        {"raw_events": []},
    ],
)
def test_inconsistent_detector_status_is_refused(changes: dict[str, object]) -> None:
    data = json.loads((FIXTURES / "detector_status.json").read_text())
    data.update(changes)
    with pytest.raises(ValidationError):
        DetectorStatus.model_validate(data)
