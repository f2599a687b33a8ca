"""MQTT topics of the contract, built and parsed here and nowhere else.

dagritme/v1/<household>/events                      canonical events, QoS 1
dagritme/v1/<household>/alerts                      detector output, QoS 1
dagritme/v1/<household>/gateway/status             retained online/offline (LWT)
dagritme/v1/<household>/gateway/heartbeat           periodic gateway heartbeat
dagritme/v1/<household>/devices/<sensor>/health     battery, linkquality, availability
dagritme/v1/<household>/feedback                    carer verdicts on alerts
dagritme/v1/<household>/summaries                   edge mode: daily per-room counts
dagritme/v1/<household>/detector/status             retained, QoS 1: the detector's learning
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

PREFIX = "dagritme/v1"

_HOUSEHOLD = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_SENSOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class Channel(StrEnum):
    EVENTS = "events"
    ALERTS = "alerts"
    GATEWAY_STATUS = "gateway/status"
    GATEWAY_HEARTBEAT = "gateway/heartbeat"
    DEVICE_HEALTH = "devices/health"
    FEEDBACK = "feedback"
    SUMMARIES = "summaries"
    DETECTOR_STATUS = "detector/status"


class TopicError(ValueError):
    """A topic that is not part of the contract."""


@dataclass(frozen=True, slots=True)
class Topic:
    household: str
    channel: Channel
    sensor: str | None = None


def _household(household: str) -> str:
    if not _HOUSEHOLD.match(household):
        raise TopicError(f"not a valid household id: {household!r}")
    return household


def events(household: str) -> str:
    return f"{PREFIX}/{_household(household)}/events"


def alerts(household: str) -> str:
    return f"{PREFIX}/{_household(household)}/alerts"


def gateway_status(household: str) -> str:
    return f"{PREFIX}/{_household(household)}/gateway/status"


def gateway_heartbeat(household: str) -> str:
    return f"{PREFIX}/{_household(household)}/gateway/heartbeat"


def device_health(household: str, sensor: str) -> str:
    if not _SENSOR.match(sensor):
        raise TopicError(f"not a valid sensor id: {sensor!r}")
    return f"{PREFIX}/{_household(household)}/devices/{sensor}/health"


def feedback(household: str) -> str:
    return f"{PREFIX}/{_household(household)}/feedback"


def summaries(household: str) -> str:
    return f"{PREFIX}/{_household(household)}/summaries"


def detector_status(household: str) -> str:
    """Retained, QoS 1: how far the detector has learned this home (no raw data)."""
    return f"{PREFIX}/{_household(household)}/detector/status"


def subscription(channel: Channel, household: str = "+") -> str:
    """Wildcard filter for one channel of one household (or all with '+')."""
    if household != "+":
        _household(household)
    if channel is Channel.DEVICE_HEALTH:
        return f"{PREFIX}/{household}/devices/+/health"
    return f"{PREFIX}/{household}/{channel.value}"


def parse(topic: str) -> Topic:
    """Parse a contract topic; raise TopicError for anything else."""
    parts = topic.split("/")
    if len(parts) < 4 or f"{parts[0]}/{parts[1]}" != PREFIX:
        raise TopicError(f"not a dagritme topic: {topic!r}")
    household = _household(parts[2])
    rest = parts[3:]
    if len(rest) == 3 and rest[0] == "devices" and rest[2] == "health":
        if not _SENSOR.match(rest[1]):
            raise TopicError(f"not a valid sensor id in topic: {topic!r}")
        return Topic(household, Channel.DEVICE_HEALTH, rest[1])
    try:
        channel = Channel("/".join(rest))
    except ValueError as err:
        raise TopicError(f"unknown channel in topic: {topic!r}") from err
    if channel is Channel.DEVICE_HEALTH:
        raise TopicError(f"device health topic without sensor: {topic!r}")
    return Topic(household, channel)
