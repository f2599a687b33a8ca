"""Home-broker sources: which firmware a topic belongs to, and what its payload says.

Each source is data: a frozen topics object that locates a topic (`route`) and names the
filters a mapped device needs, and a table of readers for its payloads. `gateway.sources.z2m`
is the first-class source; `tasmota` and `shelly` are the common Wi-Fi alternatives. The
normaliser (gateway.normaliser) knows none of their formats, only `Reading`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from gateway.sources.base import (
    DeviceListRoute,
    PayloadError,
    Reading,
    Route,
    Source,
    SourceTopics,
    value_for,
)
from gateway.sources.shelly import ShellyTopics
from gateway.sources.tasmota import TasmotaTopics
from gateway.sources.z2m import Zigbee2MqttTopics

__all__ = [
    "DeviceListRoute",
    "PayloadError",
    "Reading",
    "Route",
    "Router",
    "Source",
    "SourceTopics",
    "routers",
    "subscriptions",
    "value_for",
]


class Router(Protocol):
    def route(self, topic: str) -> Route | DeviceListRoute | None: ...


class PerDeviceFilters(Protocol):
    def filters(self, name: str) -> list[str]: ...


def routers(base_topic: str, prefixes: SourceTopics) -> dict[str, Router]:
    """Each source's router by the first topic level it owns (config keeps them distinct)."""
    tasmota = TasmotaTopics(prefixes.tasmota_tele, prefixes.tasmota_stat)
    by_head: dict[str, Router] = {
        prefixes.tasmota_tele: tasmota,
        prefixes.tasmota_stat: tasmota,
        prefixes.shelly: ShellyTopics(prefixes.shelly),
    }
    # Zigbee2MQTT last: its base topic wins should a hand-built normaliser share a level.
    by_head[base_topic.split("/")[0]] = Zigbee2MqttTopics(base_topic)
    return by_head


def subscriptions(devices: Iterable[tuple[Source, str]], prefixes: SourceTopics) -> list[str]:
    """Home-broker filters for the Tasmota and Shelly devices in the map (Zigbee2MQTT has one
    filter for all: `gateway.sources.z2m.subscription`)."""
    per_device: dict[Source, PerDeviceFilters] = {
        Source.TASMOTA: TasmotaTopics(prefixes.tasmota_tele, prefixes.tasmota_stat),
        Source.SHELLY: ShellyTopics(prefixes.shelly),
    }
    filters: list[str] = []
    for source, name in devices:
        topics = per_device.get(source)
        if topics is not None:
            filters += topics.filters(name)
    return filters
