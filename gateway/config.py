"""Gateway configuration: one TOML file, validated by pydantic (unknown keys are errors).

Example (see deploy/gateway/gateway.toml for a complete one)::

    household = "hh-0042"
    base_topic = "zigbee2mqtt"
    queue_path = "/var/lib/dagritme/gateway-queue.sqlite3"
    sharing = "events"

    [home_broker]
    url = "mqtt://127.0.0.1:1883"

    [central_broker]
    url = "mqtts://mqtt.example.org:8883"
    username = "gw-hh-0042"
    password = "change-me"

    [[devices]]
    friendly_name = "bedroom_motion"
    sensor = "M001"
    kind = "motion"
    room = "bedroom"

    [[devices]]              # a Shelly Door/Window 2 (Gen1)
    friendly_name = "shellydw2-A1B2C3"
    source = "shelly"
    sensor = "D001"
    kind = "door"
    room = "entrance"
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from dagritme.config import StrictModel
from dagritme.models import ID_PATTERN, SENSOR_PATTERN, Kind, Room
from dagritme.mqtt import BrokerSettings
from gateway.sources import Source, SourceTopics


class Sharing(StrEnum):
    """What leaves the home (the resident's choice).

    events: every canonical event, plus alerts of a local detector if one runs.
    summaries: daily per-room summaries and local-detector alerts, no raw events.
    alerts_only: local-detector alerts only, no raw events and no summaries.
    Technical health (gateway status, heartbeat, device battery/availability) is sent in
    every mode, so that a dead sensor never looks like an inactive resident.
    """

    EVENTS = "events"
    SUMMARIES = "summaries"
    ALERTS_ONLY = "alerts_only"


class DeviceMapping(StrictModel):
    """One sensor on the home broker (Zigbee2MQTT, Tasmota or Shelly) and its meaning."""

    friendly_name: str = Field(
        min_length=1,
        max_length=200,
        description="Zigbee2MQTT friendly name (may contain '/'), Tasmota %topic% or Shelly id.",
    )
    sensor: str = Field(pattern=SENSOR_PATTERN, description="Sensor id used in events.")
    kind: Kind = Field(description="motion, door or contact.")
    room: Room = Field(description="Room the sensor is in; the exterior door is in 'entrance'.")
    source: Source = Field(
        default=Source.ZIGBEE2MQTT, description="Firmware: zigbee2mqtt, tasmota or shelly."
    )
    channel: int = Field(
        default=1, ge=1, le=8, description="Tasmota only: which Switch<n>/POWER<n> is the input."
    )
    inverted: bool = Field(
        default=False,
        description="Tasmota only: the input reads ON when idle (door closed, no motion).",
    )

    @field_validator("friendly_name")
    @classmethod
    def _no_wildcards(cls, name: str) -> str:
        if any(char in name for char in "+#") or name.startswith("/") or name.endswith("/"):
            raise ValueError("must not contain MQTT wildcards or start/end with '/'")
        return name

    @model_validator(mode="after")
    def _fits_source(self) -> DeviceMapping:
        if self.source is Source.SHELLY and "/" in self.friendly_name:
            raise ValueError("a Shelly device id contains no '/'")
        if self.source is not Source.TASMOTA and (self.channel != 1 or self.inverted):
            raise ValueError("channel and inverted apply to Tasmota devices only")
        return self


class TasmotaTopics(StrictModel):
    """Tasmota's topic prefixes (FullTopic `%prefix%/%topic%/`)."""

    tele_prefix: str = Field(default="tele", min_length=1, description="Tasmota's tele prefix.")
    stat_prefix: str = Field(default="stat", min_length=1, description="Tasmota's stat prefix.")


class ShellyTopics(StrictModel):
    """Shelly Gen1's topic prefix."""

    prefix: str = Field(default="shellies", min_length=1, description="Shelly Gen1 MQTT prefix.")


class GatewayConfig(StrictModel):
    """Everything one home gateway needs."""

    household: str = Field(pattern=ID_PATTERN, description="Pseudonymous household id.")
    home_broker: BrokerSettings = Field(
        default_factory=BrokerSettings, description="The broker Zigbee2MQTT publishes to."
    )
    central_broker: BrokerSettings = Field(
        default_factory=BrokerSettings, description="Where events, health and alerts go (QoS 1)."
    )
    base_topic: str = Field(
        default="zigbee2mqtt", min_length=1, description="Zigbee2MQTT base_topic."
    )
    tasmota: TasmotaTopics = Field(
        default_factory=TasmotaTopics, description="Topic prefixes of Tasmota devices."
    )
    shelly: ShellyTopics = Field(
        default_factory=ShellyTopics, description="Topic prefix of Shelly Gen1 devices."
    )
    devices: list[DeviceMapping] = Field(
        default_factory=list, description="Device map: friendly name -> sensor, kind, room."
    )
    queue_path: Path = Field(
        default=Path("dagritme-gateway-queue.sqlite3"),
        description="SQLite file of the store-and-forward queue (WAL mode).",
    )
    queue_max_rows: int = Field(
        default=500_000,
        ge=100,
        description="Queue bound: beyond it the oldest rows are dropped (counted, warned at 80%).",
    )
    queue_synchronous: Literal["full", "normal"] = Field(
        default="full",
        description="SQLite synchronous mode: 'full' survives power loss, 'normal' only crashes.",
    )
    sharing: Sharing = Field(default=Sharing.EVENTS, description="What leaves the home.")
    heartbeat_interval_s: float = Field(
        default=60.0, gt=0, le=3600, description="Seconds between gateway heartbeats."
    )
    health_interval_s: float = Field(
        default=900.0, gt=0, description="Republish a device's health at least this often."
    )
    tick_interval_s: float = Field(
        default=60.0, gt=0, description="Seconds between local-detector ticks (edge mode)."
    )
    timezone: str = Field(
        default="Europe/Amsterdam", description="The home's time zone (daily summaries)."
    )
    max_payload_bytes: int = Field(
        default=16_384, ge=64, description="Larger Zigbee2MQTT payloads are rejected."
    )
    max_clock_skew_s: float = Field(
        default=300.0,
        gt=0,
        description="Z2M last_seen is trusted as event time when within this of the gateway clock.",
    )
    reconnect_max_backoff_s: float = Field(
        default=30.0, ge=0.1, le=600, description="Longest wait between reconnect attempts."
    )
    upstream_window: int = Field(
        default=100, ge=1, le=10_000, description="QoS 1 messages in flight to the central broker."
    )

    @field_validator("base_topic")
    @classmethod
    def _plain_topic(cls, topic: str) -> str:
        if any(char in topic for char in "+#") or topic.startswith("/") or topic.endswith("/"):
            raise ValueError("must not contain MQTT wildcards or start/end with '/'")
        return topic

    @model_validator(mode="after")
    def _distinct_prefixes(self) -> GatewayConfig:
        prefixes = [
            self.base_topic.split("/")[0],
            self.tasmota.tele_prefix,
            self.tasmota.stat_prefix,
            self.shelly.prefix,
        ]
        if len(set(prefixes)) != len(prefixes) or any("/" in p for p in prefixes[1:]):
            raise ValueError(
                "base_topic, tasmota and shelly prefixes must differ and be single levels"
            )
        return self

    def source_topics(self) -> SourceTopics:
        return SourceTopics(
            tasmota_tele=self.tasmota.tele_prefix,
            tasmota_stat=self.tasmota.stat_prefix,
            shelly=self.shelly.prefix,
        )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {zone!r}") from err
        return zone

    @model_validator(mode="after")
    def _unique_devices(self) -> GatewayConfig:
        names = [device.friendly_name for device in self.devices]
        sensors = [device.sensor for device in self.devices]
        for label, values in (("friendly_name", names), ("sensor", sensors)):
            repeated = sorted({value for value in values if values.count(value) > 1})
            if repeated:
                raise ValueError(f"devices: {label} used more than once: {', '.join(repeated)}")
        return self

    def home_client(self) -> BrokerSettings:
        """Home broker settings with a stable client id (needed for a persistent session)."""
        if self.home_broker.client_id:
            return self.home_broker
        return self.home_broker.model_copy(update={"client_id": f"dagritme-gw-{self.household}"})

    def central_client(self) -> BrokerSettings:
        if self.central_broker.client_id:
            return self.central_broker
        return self.central_broker.model_copy(
            update={"client_id": f"dagritme-gw-{self.household}-up"}
        )
