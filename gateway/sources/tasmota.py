"""Tasmota, a common Wi-Fi alternative for a PIR or a reed switch.

FullTopic `%prefix%/%topic%/`; `<topic>` is the device map's `friendly_name`:
`tele/<topic>/SENSOR`, `tele/<topic>/RESULT`, `stat/<topic>/RESULT`, `tele/<topic>/STATE`:
JSON with `"Switch<n>": "ON"` (SwitchTopic/rules), `"Switch<n>": {"Action": "ON"}`
(SetOption114, detached switches) or `"POWER<n>": "ON"` (a relay that follows the input);
`stat/<topic>/POWER<n>`: plain `ON`/`OFF`; `tele/<topic>/LWT`: `Online`/`Offline`.
Tasmota sends local time without offset, so the gateway clock dates its events.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dagritme.models import Availability
from gateway.rejects import Reason
from gateway.sources.base import PayloadError, Reading, Route, Source, json_object, text

if TYPE_CHECKING:
    from gateway.config import DeviceMapping

ON_OFF = {"ON": True, "OFF": False}

# Reads the payload of one command topic (`SENSOR`, `POWER2`, ...) for the mapped device.
CommandReader = Callable[[str, bytes, "DeviceMapping"], Reading | None]


def _power_keys(channel: int) -> tuple[str, ...]:
    """The keys/commands that carry input `channel`: `POWER<n>`, and bare `POWER` for 1."""
    return (f"POWER{channel}", "POWER") if channel == 1 else (f"POWER{channel}",)


def read_lwt(command: str, payload: bytes, device: DeviceMapping) -> Reading:
    word = text(payload).lower()
    if word not in ("online", "offline"):
        raise PayloadError(Reason.BAD_AVAILABILITY, "LWT is neither Online nor Offline")
    return Reading(availability=Availability(word))


def read_power(command: str, payload: bytes, device: DeviceMapping) -> Reading | None:
    if command not in _power_keys(device.channel):
        return None  # another relay of the same device
    return Reading(active=_on_off(text(payload), command))


def read_json_state(command: str, payload: bytes, device: DeviceMapping) -> Reading | None:
    data = json_object(payload)
    key = f"Switch{device.channel}"
    switch = data.get(key)
    if isinstance(switch, dict):
        switch = switch.get("Action")
    if switch is not None:
        return Reading(active=_on_off(switch, key))
    for key in _power_keys(device.channel):
        if key in data:
            return Reading(active=_on_off(data[key], key))
    return None


def read_nothing(command: str, payload: bytes, device: DeviceMapping) -> None:
    return None


@dataclass(frozen=True, slots=True)
class CommandRule:
    """Which command topics a reader understands."""

    matches: Callable[[str], bool]
    read: CommandReader


COMMAND_RULES: list[CommandRule] = [
    CommandRule(lambda command: command == "LWT", read_lwt),
    CommandRule(lambda command: command in ("SENSOR", "RESULT", "STATE"), read_json_state),
    CommandRule(lambda command: command.startswith("POWER"), read_power),
]


@dataclass(frozen=True, slots=True)
class TasmotaTopics:
    """Locates `<tele|stat>/<topic>/<command>` topics."""

    tele_prefix: str = "tele"
    stat_prefix: str = "stat"

    def filters(self, name: str) -> list[str]:
        return [f"{self.tele_prefix}/{name}/+", f"{self.stat_prefix}/{name}/+"]

    def route(self, topic: str) -> Route | None:
        head, _, tail = topic.partition("/")
        if head not in (self.tele_prefix, self.stat_prefix):
            return None
        name, _, command = tail.rpartition("/")
        if not name or not command:
            return None
        reader = next((rule.read for rule in COMMAND_RULES if rule.matches(command)), read_nothing)
        return Route(Source.TASMOTA, name, functools.partial(reader, command))


def _on_off(raw: object, key: str) -> bool:
    state = ON_OFF.get(raw.upper()) if isinstance(raw, str) else None
    if state is None:
        raise PayloadError(Reason.WRONG_TYPE, f"{key} is neither ON nor OFF")
    return state
