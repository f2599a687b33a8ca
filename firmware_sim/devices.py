"""Zigbee device models as Zigbee2MQTT publishes them: payload shapes and timing behaviour.

Each supported model is a frozen `DeviceModel` in `DEVICE_MODELS`; one generic payload
builder renders any of them from a `DeviceState`, so adding a model is adding data.

Z2M semantics kept here on purpose (the gateway relies on them):
- a motion sensor publishes `occupancy: true` on a detection and `occupancy: false` once no
  detection arrived for its occupancy timeout; the hardware is blind for a while after each
  report, so detections inside the blind time produce no message;
- a door contact publishes `contact: false` when OPEN and `contact: true` when CLOSED;
- every message repeats the full cached state (a battery report repeats `occupancy: true`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dagritme.models import Kind, Room

Payload = dict[str, Any]


class Sensing(StrEnum):
    """What the device reports as its main state."""

    OCCUPANCY = "occupancy"
    CONTACT = "contact"


@dataclass(frozen=True, slots=True)
class DeviceState:
    """The cached state Z2M keeps for one device and repeats in every message."""

    active: bool  # occupancy true / door open
    battery: float
    linkquality: int
    illuminance: int
    temperature: float


@dataclass(frozen=True, slots=True)
class DeviceModel:
    """How one Zigbee model behaves and what its Z2M payload carries."""

    model: str
    vendor: str
    sensing: Sensing
    blind_s: float  # after a report the hardware ignores movement this long
    occupancy_timeout_s: float  # Z2M (or the device) reports false after this long
    heartbeat_s: float  # periodic report with battery/voltage, repeating the cached state
    battery_days: float  # days from 100 % to empty at a typical report rate
    extras: Callable[[DeviceState], Payload]


def _voltage(battery: float) -> int:
    # CR2032/CR1632 cells: about 3.0 V full, 2.7 V empty on Aqara reports (millivolts).
    return int(2700 + 3 * battery)


def _aqara_motion(state: DeviceState) -> Payload:
    return {
        "illuminance": state.illuminance,
        "illuminance_lux": state.illuminance,
        "voltage": _voltage(state.battery),
        "device_temperature": round(state.temperature),
        "power_outage_count": 3,
    }


def _ikea_motion(state: DeviceState) -> Payload:
    return {"requested_brightness_level": 76, "requested_brightness_percent": 30}


def _hue_motion(state: DeviceState) -> Payload:
    return {
        # Hue reports illuminance as 10000 * log10(lux) + 1.
        "illuminance": int(10000 * math.log10(max(state.illuminance, 1)) + 1),
        "illuminance_lux": state.illuminance,
        "temperature": round(state.temperature, 2),
        "motion_sensitivity": "medium",
        "led_indication": False,
        "occupancy_timeout": 60,
    }


def _aqara_contact(state: DeviceState) -> Payload:
    return {
        "voltage": _voltage(state.battery),
        "device_temperature": round(state.temperature),
        "power_outage_count": 7,
    }


AQARA_MOTION = DeviceModel(
    model="RTCGQ11LM",
    vendor="Aqara",
    sensing=Sensing.OCCUPANCY,
    blind_s=60.0,
    occupancy_timeout_s=90.0,
    heartbeat_s=50 * 60.0,
    battery_days=730.0,
    extras=_aqara_motion,
)
IKEA_MOTION = DeviceModel(
    model="E1745",
    vendor="IKEA",
    sensing=Sensing.OCCUPANCY,
    blind_s=180.0,
    occupancy_timeout_s=180.0,
    heartbeat_s=60 * 60.0,
    battery_days=365.0,
    extras=_ikea_motion,
)
HUE_MOTION = DeviceModel(
    model="SML001",
    vendor="Philips",
    sensing=Sensing.OCCUPANCY,
    blind_s=10.0,
    occupancy_timeout_s=60.0,
    heartbeat_s=60 * 60.0,
    battery_days=540.0,
    extras=_hue_motion,
)
AQARA_CONTACT = DeviceModel(
    model="MCCGQ11LM",
    vendor="Aqara",
    sensing=Sensing.CONTACT,
    blind_s=0.0,
    occupancy_timeout_s=0.0,
    heartbeat_s=50 * 60.0,
    battery_days=900.0,
    extras=_aqara_contact,
)

DEVICE_MODELS: dict[str, DeviceModel] = {
    m.model: m for m in (AQARA_MOTION, IKEA_MOTION, HUE_MOTION, AQARA_CONTACT)
}


def state_payload(model: DeviceModel, state: DeviceState) -> Payload:
    """The full Z2M state message of a device (without `last_seen`)."""
    main: Payload
    if model.sensing is Sensing.OCCUPANCY:
        main = {"occupancy": state.active}
    else:
        main = {"contact": not state.active}  # contact true means CLOSED
    payload: Payload = {
        **main,
        "battery": round(state.battery),
        "linkquality": state.linkquality,
    }
    payload.update(model.extras(state))
    return payload


class AvailabilityStyle(StrEnum):
    """Z2M 1.x publishes plain `online`; 2.x publishes JSON `{"state": "online"}`."""

    PLAIN = "plain"
    JSON = "json"


def availability_payload(style: AvailabilityStyle, online: bool) -> Payload | str:
    word = "online" if online else "offline"
    return {"state": word} if style is AvailabilityStyle.JSON else word


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """One device of a simulated home, as the gateway's device map describes it."""

    friendly_name: str
    sensor: str
    kind: Kind
    room: Room
    model: str

    @property
    def device_model(self) -> DeviceModel:
        return DEVICE_MODELS[self.model]
