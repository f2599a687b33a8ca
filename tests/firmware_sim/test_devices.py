"""Z2M payload shapes: the fixture files parse and match what the simulator publishes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firmware_sim.devices import (
    DEVICE_MODELS,
    AvailabilityStyle,
    DeviceState,
    Sensing,
    availability_payload,
    state_payload,
)

STATE = DeviceState(active=True, battery=91.0, linkquality=120, illuminance=23, temperature=21.0)

REQUIRED_KEYS = {
    "RTCGQ11LM": {"occupancy", "illuminance", "battery", "voltage", "linkquality",
                  "device_temperature"},
    "E1745": {"occupancy", "battery", "requested_brightness_level", "linkquality"},
    "SML001": {"occupancy", "illuminance_lux", "temperature", "battery", "motion_sensitivity",
               "led_indication", "occupancy_timeout", "linkquality"},
    "MCCGQ11LM": {"contact", "battery", "voltage", "linkquality", "device_temperature"},
}  # fmt: skip


def _manifest(folder: Path) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = json.loads((folder / "manifest.json").read_text())
    return entries


def test_every_fixture_file_is_listed_and_parses(z2m_fixtures: Path) -> None:
    entries = _manifest(z2m_fixtures)
    listed = {str(e["file"]) for e in entries}
    on_disk = {p.name for p in z2m_fixtures.iterdir() if p.name != "manifest.json"}
    assert listed == on_disk
    for entry in entries:
        text = (z2m_fixtures / str(entry["file"])).read_text()
        if str(entry["file"]).endswith(".json"):
            assert isinstance(json.loads(text), dict)
        else:
            assert text in ("online", "offline")


@pytest.mark.parametrize("model", sorted(REQUIRED_KEYS))
def test_payloads_carry_the_model_fields(model: str, z2m_fixtures: Path) -> None:
    generated = state_payload(DEVICE_MODELS[model], STATE)
    assert REQUIRED_KEYS[model] <= set(generated)
    for entry in _manifest(z2m_fixtures):
        if entry["model"] == model:
            fixture = json.loads((z2m_fixtures / str(entry["file"])).read_text())
            assert set(fixture) - {"last_seen"} == set(generated)


def test_fixture_values_follow_z2m_semantics(z2m_fixtures: Path) -> None:
    for entry in _manifest(z2m_fixtures):
        if entry["value"] is None:
            continue
        payload = json.loads((z2m_fixtures / str(entry["file"])).read_text())
        if "occupancy" in payload:
            assert payload["occupancy"] is (entry["value"] == "on")
        else:  # contact true means CLOSED
            assert payload["contact"] is (entry["value"] in ("closed", "off"))


def test_contact_true_means_closed() -> None:
    door = DEVICE_MODELS["MCCGQ11LM"]
    assert door.sensing is Sensing.CONTACT
    assert state_payload(door, STATE)["contact"] is False
    closed = DeviceState(False, 91.0, 120, 23, 21.0)
    assert state_payload(door, closed)["contact"] is True


def test_availability_in_both_z2m_forms() -> None:
    assert availability_payload(AvailabilityStyle.PLAIN, True) == "online"
    assert availability_payload(AvailabilityStyle.JSON, False) == {"state": "offline"}
