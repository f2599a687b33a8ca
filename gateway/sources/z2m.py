"""Zigbee2MQTT, the first-class source: topics under `base_topic` and their payloads.

`<base>/<friendly name>` carries a device's full cached state as JSON (a battery report
repeats `occupancy: true`; the normaliser turns changes, not messages, into events),
`<base>/<friendly name>/availability` says online/offline (1.x plain word, 2.x JSON),
`<base>/bridge/devices` lists the paired devices; `/set` and `/get` are commands, not news.

State rules are data: each `StateRule` says which JSON key carries the state of which kinds
of sensor and which boolean means active. `contact: true` means CLOSED in Zigbee2MQTT, so a
door is active (open) on `false`, and so is a contact sensor (cupboard, fridge: used).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from dagritme.models import Availability, Kind
from gateway.rejects import Reason
from gateway.sources.base import DeviceListRoute, PayloadError, Reading, Route, Source

if TYPE_CHECKING:
    from gateway.config import DeviceMapping

IGNORED_SUFFIXES = ("/set", "/get")
AVAILABILITY_SUFFIX = "/availability"
BRIDGE = "bridge/"
BRIDGE_DEVICES = "bridge/devices"
HEALTH_KEYS = frozenset({"battery", "linkquality"})


@dataclass(frozen=True, slots=True)
class StateRule:
    key: str
    kinds: frozenset[Kind]
    # The JSON boolean that means the input is active (motion seen, door open, used).
    active_when: bool


STATE_RULES: list[StateRule] = [
    StateRule("occupancy", frozenset({Kind.MOTION}), active_when=True),
    StateRule("presence", frozenset({Kind.MOTION}), active_when=True),
    StateRule("contact", frozenset({Kind.DOOR, Kind.CONTACT}), active_when=False),
]
RULES_BY_KIND: dict[Kind, list[StateRule]] = {
    kind: [rule for rule in STATE_RULES if kind in rule.kinds] for kind in Kind
}


def subscription(base_topic: str) -> str:
    """The home-broker filter that covers every Zigbee2MQTT topic under `base_topic`."""
    return f"{base_topic}/#"


@dataclass(frozen=True, slots=True)
class Zigbee2MqttTopics:
    """Locates Zigbee2MQTT topics (friendly names may contain '/')."""

    base_topic: str = "zigbee2mqtt"

    @property
    def head(self) -> str:
        return self.base_topic.split("/")[0]

    def route(self, topic: str) -> Route | DeviceListRoute | None:
        prefix = self.base_topic + "/"
        if not topic.startswith(prefix):
            return None
        rest = topic[len(prefix) :]
        if rest.startswith(BRIDGE):
            if rest == BRIDGE_DEVICES:
                return DeviceListRoute(Source.ZIGBEE2MQTT, BRIDGE_DEVICES, paired_names)
            return None
        if rest.endswith(IGNORED_SUFFIXES) or "/set/" in rest:
            return None
        if rest.endswith(AVAILABILITY_SUFFIX):
            return Route(Source.ZIGBEE2MQTT, rest[: -len(AVAILABILITY_SUFFIX)], read_availability)
        return Route(Source.ZIGBEE2MQTT, rest, read_state)


def read_state(payload: bytes, device: DeviceMapping) -> Reading:
    """A device's state message: state, health fields and `last_seen`."""
    data = _decode(payload)
    problems: list[PayloadError] = []
    rejected = False
    try:
        active = state_active(data, RULES_BY_KIND[device.kind])
    except PayloadError as err:
        problems.append(err)
        active, rejected = None, True
        data = {key: item for key, item in data.items() if key in HEALTH_KEYS}
    level: float | None = None
    quality: int | None = None
    try:
        level = battery(data)
    except PayloadError as err:
        problems.append(err)
    try:
        quality = linkquality(data)
    except PayloadError as err:
        problems.append(err)
    mentions_health = "battery" in data or "linkquality" in data  # HEALTH_KEYS, unrolled
    seen: datetime | None = None
    if active is not None:
        try:
            seen = last_seen(data)
        except PayloadError as err:
            problems.append(err)
    elif not mentions_health and not rejected:
        problems.append(PayloadError(Reason.NO_STATE, "no state or health keys"))
    return Reading(
        active=active,
        battery=level,
        linkquality=quality,
        device_time=seen,
        mentions_health=mentions_health,
        problems=tuple(problems) if problems else (),
    )


def read_availability(payload: bytes, device: DeviceMapping) -> Reading:
    return Reading(availability=availability(payload))


def _decode(payload: bytes) -> dict[str, object]:
    try:
        text = payload.decode()
    except UnicodeDecodeError as err:
        raise PayloadError(Reason.INVALID_UTF8, "") from err
    try:
        data = json.loads(text)
    except ValueError as err:
        raise PayloadError(Reason.NOT_JSON, "") from err
    if not isinstance(data, dict):
        raise PayloadError(Reason.NOT_AN_OBJECT, "")
    return data


def state_active(data: dict[str, object], rules: list[StateRule]) -> bool | None:
    """Whether the state payload says active, None when it carries no state key."""
    for rule in rules:
        if rule.key in data:
            raw = data[rule.key]
            if not isinstance(raw, bool):
                raise PayloadError(
                    Reason.WRONG_TYPE, f"{rule.key} is {type(raw).__name__}, not bool"
                )
            return raw == rule.active_when
    return None


def battery(data: dict[str, object]) -> float | None:
    raw = data.get("battery")
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= 100:
        raise PayloadError(Reason.WRONG_TYPE, "battery is not a percentage")
    return float(raw)


def linkquality(data: dict[str, object]) -> int | None:
    raw = data.get("linkquality")
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 255:
        raise PayloadError(Reason.WRONG_TYPE, "linkquality is not an integer 0..255")
    return raw


def last_seen(data: dict[str, object]) -> datetime | None:
    """Z2M `last_seen`: ISO 8601 (with or without offset) or epoch milliseconds."""
    raw = data.get("last_seen")
    if raw is None:
        return None
    try:
        if isinstance(raw, bool):
            raise TypeError("bool")
        if isinstance(raw, int | float):
            return datetime.fromtimestamp(raw / 1000, UTC)
        if isinstance(raw, str):
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                # ISO_8601_local without offset cannot be placed in time reliably.
                raise ValueError("no UTC offset")
            return parsed.astimezone(UTC)
        raise TypeError(type(raw).__name__)
    except (ValueError, TypeError, OverflowError, OSError) as err:
        raise PayloadError(Reason.BAD_LAST_SEEN, f"last_seen unusable: {err}") from err


def availability(payload: bytes) -> Availability:
    """Z2M 1.x plain `online`/`offline`, or 2.x `{"state": "online"}`."""
    try:
        text = payload.decode().strip()
    except UnicodeDecodeError as err:
        raise PayloadError(Reason.INVALID_UTF8, "availability is not UTF-8") from err
    word: object = text
    if text.startswith("{"):
        try:
            decoded = json.loads(text)
        except ValueError as err:
            raise PayloadError(Reason.BAD_AVAILABILITY, "availability JSON unreadable") from err
        word = decoded.get("state") if isinstance(decoded, dict) else None
    if word == "online":
        return Availability.ONLINE
    if word == "offline":
        return Availability.OFFLINE
    raise PayloadError(Reason.BAD_AVAILABILITY, "availability is neither online nor offline")


def paired_names(payload: bytes) -> frozenset[str]:
    """Friendly names in `bridge/devices`, without the coordinator."""
    try:
        listed = json.loads(payload)
    except ValueError as err:
        raise PayloadError(Reason.NOT_JSON, "") from err
    if not isinstance(listed, list):
        raise PayloadError(Reason.NOT_AN_OBJECT, "")
    return frozenset(
        entry["friendly_name"]
        for entry in listed
        if isinstance(entry, dict)
        and isinstance(entry.get("friendly_name"), str)
        and entry.get("type") != "Coordinator"
    )
