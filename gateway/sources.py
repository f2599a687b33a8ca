"""Tasmota and Shelly Gen1 inputs: which device a home-broker topic belongs to, and its state.

Zigbee2MQTT is the first-class source (gateway.z2m); these are the common Wi-Fi alternatives
for a PIR or a reed switch. Each reading says whether the input is active ("ON", "open",
motion), which the normaliser turns into the canonical value for the device's kind.

Tasmota (FullTopic `%prefix%/%topic%/`, `<topic>` is the device map's `friendly_name`):
  `tele/<topic>/SENSOR`, `tele/<topic>/RESULT`, `stat/<topic>/RESULT`, `tele/<topic>/STATE`:
  JSON with `"Switch<n>": "ON"` (SwitchTopic/rules), `"Switch<n>": {"Action": "ON"}`
  (SetOption114, detached switches) or `"POWER<n>": "ON"` (a relay that follows the input);
  `stat/<topic>/POWER<n>`: plain `ON`/`OFF`; `tele/<topic>/LWT`: `Online`/`Offline`.
Shelly Gen1 (`<id>` such as `shellydw2-A1B2C3` is the `friendly_name`):
  door/window `shellies/<id>/sensor/state` = `open`/`close`, `shellies/<id>/sensor/battery`
  = percent; motion `shellies/<id>/status` = `{"motion": true, "bat": 98, ...}`;
  `shellies/<id>/online` = `true`/`false` (the device's last will).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from dagritme.models import Availability, Kind, Value
from gateway.payloads import PayloadError
from gateway.rejects import Reason


class Source(StrEnum):
    """Which firmware publishes a device's state on the home broker."""

    ZIGBEE2MQTT = "zigbee2mqtt"
    TASMOTA = "tasmota"
    SHELLY = "shelly"


@dataclass(frozen=True, slots=True)
class Reading:
    """What one Tasmota/Shelly message says; None where it says nothing."""

    active: bool | None = None
    availability: Availability | None = None
    battery: float | None = None


@dataclass(frozen=True, slots=True)
class SourceTopics:
    tasmota_tele: str = "tele"
    tasmota_stat: str = "stat"
    shelly: str = "shellies"


# (active, idle) value of each kind: motion seen, door open, contact (cupboard, fridge) used.
VALUES_BY_ACTIVITY: dict[Kind, tuple[Value, Value]] = {
    Kind.MOTION: (Value.ON, Value.OFF),
    Kind.DOOR: (Value.OPEN, Value.CLOSED),
    Kind.CONTACT: (Value.ON, Value.OFF),
}
TASMOTA_JSON_SUFFIXES = frozenset({"SENSOR", "RESULT", "STATE"})
ON_OFF = {"ON": True, "OFF": False}


def value_for(kind: Kind, active: bool) -> Value:
    active_value, idle_value = VALUES_BY_ACTIVITY[kind]
    return active_value if active else idle_value


def subscriptions(devices: Iterable[tuple[Source, str]], prefixes: SourceTopics) -> list[str]:
    """Home-broker filters for the Tasmota and Shelly devices in the map."""
    filters: list[str] = []
    for source, name in devices:
        if source is Source.TASMOTA:
            filters += [f"{prefixes.tasmota_tele}/{name}/+", f"{prefixes.tasmota_stat}/{name}/+"]
        elif source is Source.SHELLY:
            filters.append(f"{prefixes.shelly}/{name}/#")
    return filters


def locate(topic: str, prefixes: SourceTopics) -> tuple[Source, str, str] | None:
    """(source, device name, rest of the topic) for a Tasmota or Shelly topic."""
    head, _, tail = topic.partition("/")
    if head == prefixes.shelly:
        name, _, rest = tail.partition("/")
        return (Source.SHELLY, name, rest) if name and rest else None
    if head in (prefixes.tasmota_tele, prefixes.tasmota_stat):
        name, _, rest = tail.rpartition("/")
        return (Source.TASMOTA, name, f"{head}/{rest}") if name and rest else None
    return None


def read_tasmota(rest: str, payload: bytes, channel: int) -> Reading | None:
    """`rest` is `<prefix>/<command>`: `tele/SENSOR`, `stat/POWER1`, `tele/LWT`, ..."""
    command = rest.rpartition("/")[2]
    if command == "LWT":
        word = _text(payload).lower()
        if word not in ("online", "offline"):
            raise PayloadError(Reason.BAD_AVAILABILITY, "LWT is neither Online nor Offline")
        return Reading(availability=Availability(word))
    if command in (f"POWER{channel}", "POWER" if channel == 1 else ""):
        return Reading(active=_on_off(_text(payload), command))
    if command not in TASMOTA_JSON_SUFFIXES:
        return None
    data = _json_object(payload)
    switch = data.get(f"Switch{channel}")
    if isinstance(switch, dict):
        switch = switch.get("Action")
    if switch is not None:
        return Reading(active=_on_off(switch, f"Switch{channel}"))
    for key in (f"POWER{channel}", "POWER" if channel == 1 else ""):
        if key in data:
            return Reading(active=_on_off(data[key], key))
    return None


def read_shelly(rest: str, payload: bytes) -> Reading | None:
    """`rest` is what follows `shellies/<id>/`: `sensor/state`, `status`, `online`, ..."""
    if rest == "online":
        word = _text(payload).lower()
        if word not in ("true", "false"):
            raise PayloadError(Reason.BAD_AVAILABILITY, "online is neither true nor false")
        return Reading(availability=Availability.ONLINE if word == "true" else Availability.OFFLINE)
    if rest == "sensor/state":
        word = _text(payload).lower()
        if word not in ("open", "close"):
            raise PayloadError(Reason.WRONG_TYPE, "sensor/state is neither open nor close")
        return Reading(active=word == "open")
    if rest == "sensor/battery":
        return Reading(battery=_percent(_number(_text(payload))))
    if rest == "status":
        data = _json_object(payload)
        motion = data.get("motion")
        if motion is not None and not isinstance(motion, bool):
            raise PayloadError(Reason.WRONG_TYPE, "motion is not a bool")
        level = data.get("bat")
        battery = _percent(level) if level is not None else None
        if motion is None and battery is None:
            return None
        return Reading(active=motion, battery=battery)
    return None


def _text(payload: bytes) -> str:
    try:
        return payload.decode().strip()
    except UnicodeDecodeError as err:
        raise PayloadError(Reason.INVALID_UTF8, "payload is not UTF-8") from err


def _json_object(payload: bytes) -> dict[str, object]:
    try:
        data = json.loads(_text(payload))
    except ValueError as err:
        raise PayloadError(Reason.NOT_JSON, "payload is not JSON") from err
    if not isinstance(data, dict):
        raise PayloadError(Reason.NOT_AN_OBJECT, "payload is not a JSON object")
    return data


def _on_off(raw: object, key: str) -> bool:
    state = ON_OFF.get(raw.upper()) if isinstance(raw, str) else None
    if state is None:
        raise PayloadError(Reason.WRONG_TYPE, f"{key} is neither ON nor OFF")
    return state


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError as err:
        raise PayloadError(Reason.WRONG_TYPE, "battery is not a number") from err


def _percent(raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= 100:
        raise PayloadError(Reason.WRONG_TYPE, "battery is not a percentage")
    return float(raw)
