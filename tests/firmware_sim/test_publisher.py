"""Publishing to a real mosquitto at accelerated time: what arrives is what the homes say."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import aiomqtt
import pytest

from dagritme.clock import AcceleratedClock
from dagritme.mqtt import BrokerSettings, make_client
from firmware_sim.fleet import make_homes
from firmware_sim.publisher import PublishError, publish_homes

pytestmark = pytest.mark.integration

START = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)


async def _collect(client: aiomqtt.Client, into: list[aiomqtt.Message]) -> None:
    async for message in client.messages:
        into.append(message)


async def test_homes_arrive_on_their_own_base_topics_with_last_seen(
    broker: BrokerSettings,
) -> None:
    homes = make_homes(
        3, first_day=START.date(), days=1, scenarios=["fall@0T11:00"], personas=["dense"]
    )
    until = START + timedelta(hours=3)
    clock = AcceleratedClock(START, speed=3 * 3600 / 1.5)  # three hours in 1.5 s
    received: list[aiomqtt.Message] = []
    async with make_client(broker) as subscriber:
        await subscriber.subscribe("#", qos=1)
        collector = asyncio.create_task(_collect(subscriber, received))
        stats = await publish_homes(broker, homes, clock, lambda h: f"z2m-{h}", until, qos=1)
        await asyncio.sleep(0.3)
        collector.cancel()
    per_topic: dict[str, list[dict[str, object]]] = defaultdict(list)
    for message in received:
        assert isinstance(message.payload, bytes)
        if str(message.topic).endswith(("/availability", "bridge/state")):
            assert message.payload in (b"online", b'{"state":"online"}')
            continue
        per_topic[str(message.topic)].append(json.loads(message.payload))
    startup = sum(len(h.devices) + 1 for h in homes)
    assert stats.published + startup == len(received)
    for home in homes:
        expected = list(home.messages(stats.started or START, until))
        for device in home.devices:
            topic = f"z2m-{home.household}/{device.friendly_name}"
            want = [m.payload for m in expected if m.topic_suffix == device.friendly_name]
            got = per_topic[topic]
            assert [{k: v for k, v in g.items() if k != "last_seen"} for g in got] == want
            stamps = [datetime.fromisoformat(str(g["last_seen"])) for g in got]
            assert stamps == sorted(stamps)
            assert all(START <= s < until for s in stamps)
        fall = home.injections[0]
        motion_after_fall = [
            g
            for device in home.devices
            for g in per_topic[f"z2m-{home.household}/{device.friendly_name}"]
            if g.get("occupancy") is True
            and datetime.fromisoformat(str(g["last_seen"])) > fall.start + timedelta(minutes=5)
        ]
        assert motion_after_fall == [], "silence after the fall"


async def test_pacing_follows_the_accelerated_clock(broker: BrokerSettings) -> None:
    homes = make_homes(1, first_day=START.date(), days=1)
    clock = AcceleratedClock(START, speed=3600.0)  # an hour a second
    loop = asyncio.get_running_loop()
    began = loop.time()
    await publish_homes(broker, homes, clock, lambda h: "zigbee2mqtt", START + timedelta(hours=1))
    elapsed = loop.time() - began
    assert 0.7 < elapsed < 3.0


async def test_unreachable_broker_is_a_clear_error() -> None:
    from dagritme.servers import free_port

    nowhere = BrokerSettings(url=f"mqtt://127.0.0.1:{free_port()}")
    homes = make_homes(1, first_day=START.date(), days=1)
    with pytest.raises(PublishError, match="publishing to 127.0.0.1"):
        await publish_homes(
            nowhere, homes, AcceleratedClock(START, 3600.0), lambda h: "z", START + timedelta(1)
        )


async def test_a_fleet_publishes_from_several_processes(broker: BrokerSettings) -> None:
    from firmware_sim.load import publish_fleet

    homes = make_homes(8, first_day=START.date(), days=1, personas=["sparse", "typical"])
    until = START + timedelta(hours=1)
    received: list[aiomqtt.Message] = []
    async with make_client(broker) as subscriber:
        await subscriber.subscribe("#", qos=1)
        collector = asyncio.create_task(_collect(subscriber, received))
        figures = await publish_fleet(broker, homes, START, 1e6, until, processes=2)
        await asyncio.sleep(0.5)
        collector.cancel()
    expected = sum(sum(1 for _ in h.messages(START, until)) for h in homes)
    startup = sum(len(h.devices) + 1 for h in homes)
    assert figures.published == expected
    assert len(received) == expected + startup
    households = {str(m.topic).split("/")[0] for m in received}
    assert households == {f"z2m-{h.household}" for h in homes}


async def test_runs_until_cancelled_when_there_is_no_end(broker: BrokerSettings) -> None:
    homes = make_homes(2, first_day=START.date(), days=1)
    clock = AcceleratedClock(START, speed=7200.0)  # two hours a second
    received: list[aiomqtt.Message] = []
    async with make_client(broker) as subscriber:
        await subscriber.subscribe("#")
        collector = asyncio.create_task(_collect(subscriber, received))
        publishing = asyncio.create_task(
            publish_homes(broker, homes, clock, lambda h: f"z2m-{h}", None)
        )
        await asyncio.sleep(1.5)
        publishing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await publishing
        await asyncio.sleep(0.2)
        collector.cancel()
    stamps = [
        datetime.fromisoformat(json.loads(m.payload)["last_seen"])
        for m in received
        if isinstance(m.payload, bytes) and m.payload.startswith(b'{"occ')
    ]
    assert stamps
    assert max(stamps) > START + timedelta(hours=1), "it went on past the first chunk"
