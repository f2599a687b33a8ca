"""The running Gateway against two real mosquittos (home, and central with passwords + ACL)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from dagritme import topics
from dagritme.clock import WallClock
from dagritme.models import DeviceHealth, GatewayHeartbeat, Kind, Value, make_event_id
from dagritme.mqtt import BrokerSettings
from gateway.config import GatewayConfig
from gateway.service import Gateway
from tests.gateway.conftest import (
    FOREIGN_DEVICES,
    HOUSEHOLD,
    consuming,
    motion_payload,
    poll_until,
    publisher,
    running,
)

pytestmark = pytest.mark.integration


async def test_state_changes_become_canonical_events(
    gateway_config: GatewayConfig, broker: BrokerSettings, consumer_settings: BrokerSettings
) -> None:
    start = datetime.now(UTC).replace(microsecond=0)
    async with (
        consuming(consumer_settings, HOUSEHOLD) as seen,
        running(Gateway(gateway_config, WallClock())),
        publisher(broker) as z2m,
    ):
        sends = [
            ("zigbee2mqtt/bedroom_motion", motion_payload(True, start)),
            # A battery report repeating occupancy:true is not a new event.
            ("zigbee2mqtt/bedroom_motion", motion_payload(True, start + timedelta(seconds=5), 96)),
            ("zigbee2mqtt/bedroom_motion", motion_payload(False, start + timedelta(seconds=90))),
            ("zigbee2mqtt/kitchen/motion", motion_payload(True, start + timedelta(seconds=91))),
            ("zigbee2mqtt/front_door", b'{"contact":false,"battery":80}'),
            ("zigbee2mqtt/front_door", b'{"contact":true,"battery":80}'),
            ("zigbee2mqtt/unknown_thing", b'{"occupancy":true}'),
            ("zigbee2mqtt/bedroom_motion", b"\xff\xfe not json"),
        ]
        for topic, payload in sends:
            await z2m.publish(topic, payload, qos=1)
        await seen.wait_for_events(5)
        await asyncio.sleep(0.2)

    events = sorted(seen.events, key=lambda event: event.seq)
    assert [(e.sensor, e.value) for e in events] == [
        ("M001", Value.ON),
        ("M001", Value.OFF),
        ("M002", Value.ON),
        ("D001", Value.OPEN),
        ("D001", Value.CLOSED),
    ]
    assert [e.seq for e in events] == [0, 1, 2, 3, 4]
    assert events[0].ts == start
    assert events[0].event_id == make_event_id(HOUSEHOLD, "M001", start, "on")
    assert events[3].kind is Kind.DOOR
    assert events[3].is_exterior_door
    assert all(e.household == HOUSEHOLD for e in events)


async def test_status_heartbeat_and_health_are_published(
    gateway_config: GatewayConfig, broker: BrokerSettings, consumer_settings: BrokerSettings
) -> None:
    status = topics.gateway_status(HOUSEHOLD)
    async with consuming(consumer_settings, HOUSEHOLD) as seen:
        async with running(Gateway(gateway_config, WallClock())), publisher(broker) as z2m:
            assert await seen.wait_for(status) == [b"online"]
            await z2m.publish("zigbee2mqtt/bedroom_motion", motion_payload(True, battery=41), qos=1)
            await z2m.publish("zigbee2mqtt/fridge/availability", b'{"state":"offline"}', qos=1)
            health_topic = topics.device_health(HOUSEHOLD, "M001")
            health = DeviceHealth.model_validate_json((await seen.wait_for(health_topic))[-1])
            assert health.battery == 41
            fridge = await seen.wait_for(topics.device_health(HOUSEHOLD, "C001"))
            assert DeviceHealth.model_validate_json(fridge[-1]).availability.value == "offline"
            beat_topic = topics.gateway_heartbeat(HOUSEHOLD)

            def latest_beat() -> GatewayHeartbeat | None:
                beats = seen.other.get(beat_topic)
                return GatewayHeartbeat.model_validate_json(beats[-1]) if beats else None

            # The first beat may precede the home connection; a later one must report it.
            assert await poll_until(
                lambda: (beat := latest_beat()) is not None and beat.counters["home_connected"] == 1
            )
            beat = latest_beat()
            assert beat is not None
            assert beat.household == HOUSEHOLD
            assert beat.queued == 0
        await asyncio.sleep(0.3)
        assert seen.other[status][-1] == b"offline"


async def test_rejects_are_counted_per_reason(
    gateway_config: GatewayConfig, broker: BrokerSettings
) -> None:
    gateway = Gateway(gateway_config, WallClock())
    async with running(gateway), publisher(broker) as z2m:
        await z2m.publish("zigbee2mqtt/bedroom_motion", b"\xff\xfe", qos=1)
        await z2m.publish("zigbee2mqtt/bedroom_motion", b"[1,2]", qos=1)
        await z2m.publish("zigbee2mqtt/bedroom_motion", json.dumps({"occupancy": "yes"}), qos=1)
        await z2m.publish("zigbee2mqtt/stranger", b'{"occupancy":true}', qos=1)
        assert await poll_until(lambda: gateway.counters["home_messages"] >= 4)
        counters = gateway.heartbeat().counters
    assert counters["rejected_invalid_utf8"] == 1
    assert counters["rejected_not_an_object"] == 1
    assert counters["rejected_wrong_type"] == 1
    assert counters["rejected_unknown_device"] == 1
    assert counters["unknown_devices"] == 1


async def test_the_central_acl_confines_a_gateway_to_its_household(
    gateway_config: GatewayConfig, broker: BrokerSettings, consumer_settings: BrokerSettings
) -> None:
    # Same credentials, another household: the broker acknowledges and drops the publishes.
    stray = gateway_config.model_copy(update={"household": "hh-other"})
    gateway = Gateway(stray, WallClock())
    async with (
        consuming(consumer_settings, "hh-other") as seen,
        running(gateway),
        publisher(broker) as z2m,
    ):
        await z2m.publish("zigbee2mqtt/bedroom_motion", motion_payload(True), qos=1)
        assert await poll_until(lambda: gateway.counters["forwarded"] == 1)
        await asyncio.sleep(0.3)
    assert seen.events == []
    assert seen.other == {}


async def test_tasmota_and_shelly_devices_through_real_brokers(
    gateway_config: GatewayConfig, broker: BrokerSettings, consumer_settings: BrokerSettings
) -> None:
    foreign = [d for d in FOREIGN_DEVICES if d.sensor in ("M010", "D011")]
    config = gateway_config.model_copy(update={"devices": [*gateway_config.devices, *foreign]})
    async with (
        consuming(consumer_settings, HOUSEHOLD) as seen,
        running(Gateway(config, WallClock())),
        publisher(broker) as home,
    ):
        await home.publish("tele/hall_pir/SENSOR", b'{"Switch1":"ON"}', qos=1)
        await home.publish("shellies/shellydw2-A1B2C3/sensor/state", b"open", qos=1)
        await home.publish("tele/other_plug/SENSOR", b'{"Switch1":"ON"}', qos=1)
        await seen.wait_for_events(2)
        await asyncio.sleep(0.2)
    assert sorted((e.sensor, e.value) for e in seen.events) == [
        ("D011", Value.OPEN),
        ("M010", Value.ON),
    ]
