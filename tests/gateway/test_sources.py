"""Tasmota and Shelly Gen1 payloads through the device map (pure normaliser, fixture files)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from dagritme.clock import ManualClock
from dagritme.models import Availability, DeviceHealth, Event, Value
from gateway.config import GatewayConfig
from gateway.normaliser import Normaliser
from gateway.sources import SourceTopics, subscriptions
from tests.gateway.conftest import FOREIGN_DEVICES, HOUSEHOLD, fixture_bytes

NOW = datetime(2026, 3, 2, 7, 41, 30, tzinfo=UTC)


def make(clock: ManualClock) -> Normaliser:
    return Normaliser(HOUSEHOLD, FOREIGN_DEVICES, clock)


def values(outputs: list[Event | DeviceHealth]) -> list[tuple[str, Value]]:
    return [(out.sensor, out.value) for out in outputs if isinstance(out, Event)]


def health(outputs: list[Event | DeviceHealth]) -> list[DeviceHealth]:
    return [out for out in outputs if isinstance(out, DeviceHealth)]


def test_tasmota_pir_from_sensor_result_and_state_messages() -> None:
    clock = ManualClock(NOW)
    normaliser = make(clock)
    on = normaliser.handle("tele/hall_pir/SENSOR", fixture_bytes("tasmota_sensor_switch1_on.json"))
    assert values(on) == [("M010", Value.ON)]
    [event] = [out for out in on if isinstance(out, Event)]
    assert event.ts == NOW  # Tasmota sends local time without offset: the gateway clock dates it
    # The rule-based form repeats the state: nothing new.
    assert values(normaliser.handle("tele/hall_pir/RESULT", b'{"Switch1":"ON"}')) == []
    clock.advance(timedelta(seconds=60))
    off = fixture_bytes("tasmota_result_switch1_action_off.json")
    assert values(normaliser.handle("tele/hall_pir/RESULT", off)) == [("M010", Value.OFF)]
    clock.advance(timedelta(seconds=60))
    state = fixture_bytes("tasmota_state_power_off.json")
    assert values(normaliser.handle("tele/hall_pir/STATE", state)) == []
    assert values(normaliser.handle("stat/hall_pir/POWER", b"ON")) == [("M010", Value.ON)]
    assert normaliser.next_seq == 3


def test_tasmota_channel_and_inverted_wiring() -> None:
    normaliser = make(ManualClock(NOW))
    # Switch1 belongs to another input of the same device.
    assert values(normaliser.handle("tele/back_door/SENSOR", b'{"Switch1":"OFF"}')) == []
    # The reed contact reads ON while the door is closed.
    assert values(normaliser.handle("stat/back_door/POWER2", b"ON")) == [("D010", Value.CLOSED)]
    assert values(normaliser.handle("tele/back_door/RESULT", b'{"Switch2":{"Action":"OFF"}}')) == [
        ("D010", Value.OPEN)
    ]


def test_tasmota_lwt_is_availability() -> None:
    normaliser = make(ManualClock(NOW))
    [report] = health(normaliser.handle("tele/hall_pir/LWT", b"Offline"))
    assert report.sensor == "M010"
    assert report.availability is Availability.OFFLINE


def test_shelly_door_window_state_battery_and_online() -> None:
    clock = ManualClock(NOW)
    normaliser = make(clock)
    topic = "shellies/shellydw2-A1B2C3/sensor/state"
    assert values(normaliser.handle(topic, b"open")) == [("D011", Value.OPEN)]
    clock.advance(timedelta(seconds=30))
    assert values(normaliser.handle(topic, b"close")) == [("D011", Value.CLOSED)]
    battery = normaliser.handle("shellies/shellydw2-A1B2C3/sensor/battery", b"87")
    assert [report.battery for report in health(battery)] == [87]
    [offline] = health(normaliser.handle("shellies/shellydw2-A1B2C3/online", b"false"))
    assert offline.availability is Availability.OFFLINE


def test_shelly_motion_status_json() -> None:
    clock = ManualClock(NOW)
    normaliser = make(clock)
    topic = "shellies/shellymotionsensor-D4E5F6/status"
    out = normaliser.handle(topic, fixture_bytes("shelly_motion_status.json"))
    assert values(out) == [("M011", Value.ON)]
    assert [report.battery for report in health(out)] == [98]
    clock.advance(timedelta(minutes=1))
    assert values(normaliser.handle(topic, b'{"motion":false,"bat":98}')) == [("M011", Value.OFF)]


def test_bad_and_foreign_payloads_are_counted_not_raised() -> None:
    normaliser = make(ManualClock(NOW))
    assert normaliser.handle("shellies/shellydw2-A1B2C3/sensor/state", b"ajar") == []
    assert normaliser.handle("tele/hall_pir/SENSOR", b"not json") == []
    assert normaliser.handle("stat/hall_pir/POWER", b"MAYBE") == []
    assert normaliser.handle("shellies/shellyplug-000000/relay/0", b"on") == []
    assert normaliser.handle("tele/hall_pir/INFO1", b'{"Module":"Generic"}') == []
    assert normaliser.rejects.by_reason() == {
        "wrong_type": 2,
        "not_json": 1,
        "unknown_device": 1,
    }
    assert normaliser.unknown_devices == {"shellyplug-000000"}


def test_subscriptions_cover_only_the_mapped_devices() -> None:
    pairs = [(device.source, device.friendly_name) for device in FOREIGN_DEVICES]
    assert subscriptions(pairs, SourceTopics()) == [
        "tele/hall_pir/+",
        "stat/hall_pir/+",
        "tele/back_door/+",
        "stat/back_door/+",
        "shellies/shellydw2-A1B2C3/#",
        "shellies/shellymotionsensor-D4E5F6/#",
    ]


@pytest.mark.parametrize(
    ("device", "config"),
    [
        ({"friendly_name": "a/b", "source": "shelly"}, {}),
        ({"friendly_name": "z2m", "channel": 2}, {}),
        ({"friendly_name": "z2m", "inverted": True}, {}),
        ({"friendly_name": "t", "source": "mqtt-thing"}, {}),
        ({"friendly_name": "t", "source": "tasmota"}, {"tasmota": {"tele_prefix": "shellies"}}),
    ],
)
def test_config_rejects_mappings_that_cannot_work(
    device: dict[str, object], config: dict[str, object]
) -> None:
    entry = {"sensor": "M001", "kind": "motion", "room": "hall", **device}
    with pytest.raises(ValidationError):
        GatewayConfig.model_validate({"household": HOUSEHOLD, "devices": [entry], **config})
