"""Reading Zigbee2MQTT payload fields: the rules that map device state keys to event values.

Rules are data: each `StateRule` says which JSON key carries the state of which kinds of
sensor and how its boolean maps to a canonical value. `contact: true` means CLOSED in
Zigbee2MQTT, so a door reads open on `false` and a contact sensor (cupboard, fridge) reads
`on` (used) on `false`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from dagritme.models import Availability, Kind, Value
from gateway.rejects import Reason


class PayloadError(ValueError):
    """A field that is present but unusable; `reason` names the reject counter."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class StateRule:
    key: str
    kinds: frozenset[Kind]
    value_fn: Callable[[bool], Value]


STATE_RULES: list[StateRule] = [
    StateRule("occupancy", frozenset({Kind.MOTION}), lambda on: Value.ON if on else Value.OFF),
    StateRule("presence", frozenset({Kind.MOTION}), lambda on: Value.ON if on else Value.OFF),
    StateRule(
        "contact", frozenset({Kind.DOOR}), lambda closed: Value.CLOSED if closed else Value.OPEN
    ),
    StateRule(
        "contact", frozenset({Kind.CONTACT}), lambda closed: Value.OFF if closed else Value.ON
    ),
]

HEALTH_KEYS = frozenset({"battery", "linkquality"})


def rules_for(kind: Kind) -> list[StateRule]:
    return [rule for rule in STATE_RULES if kind in rule.kinds]


def state_value(data: dict[str, object], rules: list[StateRule]) -> Value | None:
    """The canonical value in a state payload, None when it carries no state key."""
    for rule in rules:
        if rule.key in data:
            raw = data[rule.key]
            if not isinstance(raw, bool):
                raise PayloadError(
                    Reason.WRONG_TYPE, f"{rule.key} is {type(raw).__name__}, not bool"
                )
            return rule.value_fn(raw)
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
