"""The ingest core: every broker message is stored, or rejected and counted, never a crash."""

from __future__ import annotations

from dagritme.models import DeviceHealth
from dashboard.alert_store import device_health, gateway_statuses, get_alert
from dashboard.ingest import Outcome, handle_message
from tests.dashboard.conftest import START, World, make_alert


def handle(world: World, topic: str, payload: bytes) -> Outcome:
    return handle_message(world.db, world.clock, topic, payload).outcome


def test_alert_is_new_once_then_updated(world: World) -> None:
    payload = make_alert().model_dump_json().encode()
    assert handle(world, "dagritme/v1/hh-a/alerts", payload) is Outcome.NEW_ALERT
    assert handle(world, "dagritme/v1/hh-a/alerts", payload) is Outcome.UPDATED_ALERT
    assert get_alert(world.db, "alert-0001") is not None


def test_mismatched_or_broken_payloads_are_rejected(world: World) -> None:
    alert = make_alert(household="hh-b").model_dump_json().encode()
    assert handle(world, "dagritme/v1/hh-a/alerts", alert) is Outcome.REJECTED
    assert handle(world, "dagritme/v1/hh-a/alerts", b"\xff\xfe") is Outcome.REJECTED
    assert handle(world, "dagritme/v1/hh-a/gateway/status", b"maybe") is Outcome.REJECTED
    assert handle(world, "somebody/else/topic", b"{}") is Outcome.IGNORED
    assert handle(world, "dagritme/v1/hh-a/events", b"{}") is Outcome.IGNORED
    assert get_alert(world.db, "alert-0001") is None


def test_device_health_and_gateway_status(world: World) -> None:
    health = DeviceHealth(household="hh-a", sensor="M001", ts=START, battery=12, linkquality=90)
    topic = "dagritme/v1/hh-a/devices/M001/health"
    assert handle(world, topic, health.model_dump_json().encode()) is Outcome.DEVICE_HEALTH
    wrong_sensor = "dagritme/v1/hh-a/devices/M002/health"
    assert handle(world, wrong_sensor, health.model_dump_json().encode()) is Outcome.REJECTED
    [row] = device_health(world.db, "hh-a")
    assert (row.sensor, row.battery, row.linkquality) == ("M001", 12, 90)
    assert handle(world, "dagritme/v1/hh-a/gateway/status", b"online") is Outcome.GATEWAY_STATUS
    assert handle(world, "dagritme/v1/hh-a/gateway/status", b'"offline"') is (
        Outcome.GATEWAY_STATUS
    )
    assert gateway_statuses(world.db)["hh-a"][0] == "offline"
