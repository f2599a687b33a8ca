"""Shelly Gen1, a common Wi-Fi alternative for a door/window contact or a PIR.

`<id>` such as `shellydw2-A1B2C3` is the device map's `friendly_name`: door/window
`shellies/<id>/sensor/state` = `open`/`close`, `shellies/<id>/sensor/battery` = percent;
motion `shellies/<id>/status` = `{"motion": true, "bat": 98, ...}`;
`shellies/<id>/online` = `true`/`false` (the device's last will).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dagritme.models import Availability
from gateway.rejects import Reason
from gateway.sources.base import (
    PayloadError,
    Reader,
    Reading,
    Route,
    Source,
    json_object,
    percent,
    text,
)

if TYPE_CHECKING:
    from gateway.config import DeviceMapping


def read_online(payload: bytes, device: DeviceMapping) -> Reading:
    word = text(payload).lower()
    if word not in ("true", "false"):
        raise PayloadError(Reason.BAD_AVAILABILITY, "online is neither true nor false")
    return Reading(availability=Availability.ONLINE if word == "true" else Availability.OFFLINE)


def read_door_state(payload: bytes, device: DeviceMapping) -> Reading:
    word = text(payload).lower()
    if word not in ("open", "close"):
        raise PayloadError(Reason.WRONG_TYPE, "sensor/state is neither open nor close")
    return Reading(active=word == "open")


def read_battery(payload: bytes, device: DeviceMapping) -> Reading:
    try:
        level = float(text(payload))
    except ValueError as err:
        raise PayloadError(Reason.WRONG_TYPE, "battery is not a number") from err
    return Reading(battery=percent(level))


def read_status(payload: bytes, device: DeviceMapping) -> Reading | None:
    data = json_object(payload)
    motion = data.get("motion")
    if motion is not None and not isinstance(motion, bool):
        raise PayloadError(Reason.WRONG_TYPE, "motion is not a bool")
    level = data.get("bat")
    battery = percent(level) if level is not None else None
    if motion is None and battery is None:
        return None
    return Reading(active=motion, battery=battery)


def read_nothing(payload: bytes, device: DeviceMapping) -> None:
    return None


# What follows `shellies/<id>/` -> its reader; other subtopics (relay, temperature) say nothing.
READERS: dict[str, Reader] = {
    "online": read_online,
    "sensor/state": read_door_state,
    "sensor/battery": read_battery,
    "status": read_status,
}


@dataclass(frozen=True, slots=True)
class ShellyTopics:
    """Locates `shellies/<id>/<subtopic>` topics."""

    prefix: str = "shellies"

    def filters(self, name: str) -> list[str]:
        return [f"{self.prefix}/{name}/#"]

    def route(self, topic: str) -> Route | None:
        head, _, tail = topic.partition("/")
        if head != self.prefix:
            return None
        name, _, rest = tail.partition("/")
        if not name or not rest:
            return None
        return Route(Source.SHELLY, name, READERS.get(rest, read_nothing))
