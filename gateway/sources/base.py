"""What every home-broker source shares: the vocabulary its parser speaks to the normaliser.

A source (Zigbee2MQTT, Tasmota, Shelly) locates a topic (`Route`: whose message, and the
reader for it) and reads a payload into a protocol-neutral `Reading`. Each reading says
whether the input is active (motion, door open, cupboard used), which the normaliser turns
into the canonical value for the device's kind. Problems in a field that do not spoil the
rest of the message travel in `Reading.problems`; a message that is unusable as a whole
raises `PayloadError`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

from dagritme.models import Availability, Kind, Value
from gateway.rejects import Reason

if TYPE_CHECKING:
    from gateway.config import DeviceMapping


class Source(StrEnum):
    """Which firmware publishes a device's state on the home broker."""

    ZIGBEE2MQTT = "zigbee2mqtt"
    TASMOTA = "tasmota"
    SHELLY = "shelly"


@dataclass(frozen=True, slots=True)
class SourceTopics:
    tasmota_tele: str = "tele"
    tasmota_stat: str = "stat"
    shelly: str = "shellies"


class PayloadError(ValueError):
    """A field that is present but unusable; `reason` names the reject counter."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class Reading(NamedTuple):
    """What one message says about one device, whatever its firmware; None where silent.

    Immutable; a named tuple rather than a frozen dataclass because one is made per message
    and a frozen dataclass costs twice as much to build.
    """

    active: bool | None = None
    availability: Availability | None = None
    battery: float | None = None
    linkquality: int | None = None
    # The device's own time of the state (Zigbee2MQTT `last_seen`), not yet checked for skew.
    device_time: datetime | None = None
    # Battery/linkquality fields were present, even if empty or unusable.
    mentions_health: bool = False
    # Counted, but the rest of the message still counts.
    problems: tuple[PayloadError, ...] = ()

    @property
    def says_something(self) -> bool:
        return (
            self.active is not None
            or self.battery is not None
            or self.linkquality is not None
            or self.mentions_health
        )


# Reads a payload for the mapped device; None when the message says nothing of interest.
Reader = Callable[[bytes, "DeviceMapping"], Reading | None]


@dataclass(frozen=True, slots=True)
class Route:
    """A device's message: how the normaliser finds the device, and how to read it."""

    source: Source
    name: str
    read: Reader


@dataclass(frozen=True, slots=True)
class DeviceListRoute:
    """A source's list of paired devices (Zigbee2MQTT `bridge/devices`)."""

    source: Source
    name: str
    read_names: Callable[[bytes], frozenset[str]]


# (active, idle) value of each kind: motion seen, door open, contact (cupboard, fridge) used.
VALUES_BY_ACTIVITY: dict[Kind, tuple[Value, Value]] = {
    Kind.MOTION: (Value.ON, Value.OFF),
    Kind.DOOR: (Value.OPEN, Value.CLOSED),
    Kind.CONTACT: (Value.ON, Value.OFF),
}


def value_for(kind: Kind, active: bool) -> Value:
    active_value, idle_value = VALUES_BY_ACTIVITY[kind]
    return active_value if active else idle_value


def text(payload: bytes) -> str:
    try:
        return payload.decode().strip()
    except UnicodeDecodeError as err:
        raise PayloadError(Reason.INVALID_UTF8, "payload is not UTF-8") from err


def json_object(payload: bytes) -> dict[str, object]:
    try:
        data = json.loads(text(payload))
    except ValueError as err:
        raise PayloadError(Reason.NOT_JSON, "payload is not JSON") from err
    if not isinstance(data, dict):
        raise PayloadError(Reason.NOT_AN_OBJECT, "payload is not a JSON object")
    return data


def percent(raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= 100:
        raise PayloadError(Reason.WRONG_TYPE, "battery is not a percentage")
    return float(raw)
