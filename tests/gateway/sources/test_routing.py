"""The per-source parsers on their own: topics to routes, payloads to protocol-neutral readings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dagritme.models import Availability, DeviceHealth, Kind, Room
from gateway.config import DeviceMapping
from gateway.health import HealthTracker
from gateway.rejects import Reason
from gateway.sources import (
    DeviceListRoute,
    PayloadError,
    Reading,
    Route,
    Source,
    SourceTopics,
    routers,
)
from gateway.sources.z2m import RULES_BY_KIND, read_state

HALL = DeviceMapping(friendly_name="hall", sensor="M001", kind=Kind.MOTION, room=Room.HALL)
RELAY = DeviceMapping(
    friendly_name="hall", source=Source.TASMOTA, sensor="M002", kind=Kind.MOTION, room=Room.HALL
)
NOW = datetime(2026, 3, 2, 7, tzinfo=UTC)


def route(topic: str) -> Route | DeviceListRoute | None:
    router = routers("zigbee2mqtt", SourceTopics()).get(topic.partition("/")[0])
    return router.route(topic) if router is not None else None


@pytest.mark.parametrize(
    ("topic", "source", "name"),
    [
        ("zigbee2mqtt/kitchen/motion", Source.ZIGBEE2MQTT, "kitchen/motion"),
        ("zigbee2mqtt/kitchen/motion/availability", Source.ZIGBEE2MQTT, "kitchen/motion"),
        ("tele/hall_pir/SENSOR", Source.TASMOTA, "hall_pir"),
        ("stat/hall_pir/POWER1", Source.TASMOTA, "hall_pir"),
        ("shellies/shellydw2-A1B2C3/sensor/state", Source.SHELLY, "shellydw2-A1B2C3"),
    ],
)
def test_each_topic_finds_its_source_and_device(topic: str, source: Source, name: str) -> None:
    located = route(topic)
    assert isinstance(located, Route)
    assert (located.source, located.name) == (source, name)


@pytest.mark.parametrize(
    "topic",
    ["zigbee2mqtt/bridge/state", "zigbee2mqtt/hall/set", "zigbee2mqtt/hall/set/x", "other/hall"],
)
def test_commands_bridge_state_and_strangers_have_no_route(topic: str) -> None:
    assert route(topic) is None


def test_bridge_devices_is_a_device_list() -> None:
    located = route("zigbee2mqtt/bridge/devices")
    assert isinstance(located, DeviceListRoute)
    listed = b'[{"friendly_name":"hall"},{"friendly_name":"c","type":"Coordinator"}]'
    assert located.read_names(listed) == frozenset({"hall"})


def test_every_kind_has_a_zigbee2mqtt_state_rule() -> None:
    assert all(RULES_BY_KIND[kind] for kind in Kind)


def test_a_bad_state_keeps_the_health_fields_and_names_each_problem() -> None:
    reading = read_state(b'{"occupancy":"yes","battery":"full","linkquality":5}', HALL)
    assert reading.active is None
    assert reading.linkquality == 5
    assert reading.mentions_health
    assert [problem.reason for problem in reading.problems] == [Reason.WRONG_TYPE] * 2


def test_last_seen_is_read_only_with_a_state() -> None:
    health_only = read_state(b'{"battery":90,"last_seen":"yesterday"}', HALL)
    assert health_only.problems == ()
    assert health_only.device_time is None
    state = read_state(b'{"occupancy":true,"last_seen":1772433667000}', HALL)
    assert state.device_time == datetime.fromtimestamp(1772433667, UTC)


def test_a_message_without_state_or_health_is_a_no_state_problem() -> None:
    reading = read_state(b'{"temperature":21.5}', HALL)
    assert not reading.says_something
    assert [problem.reason for problem in reading.problems] == [Reason.NO_STATE]


def test_tasmota_reads_only_its_own_channel() -> None:
    power2 = route("stat/hall/POWER2")
    assert isinstance(power2, Route)
    assert power2.read(b"ON", RELAY) is None
    power = route("stat/hall/POWER")
    assert isinstance(power, Route)
    assert power.read(b"on", RELAY) == Reading(active=True)
    lwt = route("tele/hall/LWT")
    assert isinstance(lwt, Route)
    with pytest.raises(PayloadError):
        lwt.read(b"Sleeping", RELAY)


def test_health_reports_follow_changes_and_the_interval() -> None:
    tracker = HealthTracker("hh-1", ["M001"], interval=timedelta(minutes=15), detail=True)
    assert tracker.heard("M001", Reading(battery=90.0, linkquality=100), NOW)
    assert not tracker.heard("M001", Reading(battery=90.2, linkquality=120), NOW)
    assert tracker.heard("M001", Reading(linkquality=160), NOW)
    first = tracker.report("M001", NOW, force=False)
    assert isinstance(first, DeviceHealth)
    assert tracker.report("M001", NOW + timedelta(minutes=1), force=False) is None
    offline = tracker.set_availability("M001", Availability.OFFLINE, NOW)
    assert offline is not None
    assert offline.availability is Availability.OFFLINE
    assert tracker.heard("M001", Reading(), NOW)  # talking again means online again
