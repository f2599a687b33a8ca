"""The live service against a real mosquitto: events in, alerts out, restart from checkpoint."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import time, timedelta
from pathlib import Path

import aiomqtt
import pytest

from dagritme import topics
from dagritme.clock import ManualClock
from dagritme.models import Alert, AlertStatus, AlertType, DeviceHealth, Room, payload_json
from dagritme.mqtt import BrokerSettings, make_client
from dagritme.servers import MosquittoServer
from detector.config import DetectorConfig
from detector.service import DetectorService
from tests.detector.helpers import HOUSEHOLD, START, local, motion, warmed_up

pytestmark = pytest.mark.integration


@contextlib.asynccontextmanager
async def running(service: DetectorService) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(service.run())
    try:
        await asyncio.wait_for(service.connected.wait(), 10)
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def next_alert(client: aiomqtt.Client, within_s: float = 10) -> Alert:
    async with asyncio.timeout(within_s):
        async for message in client.messages:
            assert isinstance(message.payload, bytes)
            return Alert.model_validate_json(message.payload)
    raise AssertionError("no alert")


async def test_service_publishes_alerts_and_restarts_without_duplicates(
    broker: BrokerSettings, tmp_path: Path
) -> None:
    config = DetectorConfig(
        broker=broker, tick_interval_s=0.2, checkpoint_interval_s=60, state_dir=tmp_path
    )
    detector, home, day, _ = warmed_up()
    fall = local(day, time(14, 0))
    clock = ManualClock(fall)  # the events of the morning arrive "live", up to the fall
    service = DetectorService(config, clock, detector=detector)
    async with make_client(broker) as watcher, make_client(broker) as gateway:
        await watcher.subscribe(topics.subscription(topics.Channel.ALERTS), qos=1)
        async with running(service):
            for event in home.day_events(day):
                if fall - timedelta(hours=6) <= event.ts < fall:
                    await gateway.publish(topics.events(HOUSEHOLD), payload_json(event), qos=1)
            await gateway.publish(topics.events(HOUSEHOLD), b"{not json", qos=1)
            clock.set(fall + timedelta(hours=4))  # nobody moved since 14:00
            alert = await next_alert(watcher)
            assert alert.type is AlertType.INACTIVITY
            assert alert.household == HOUSEHOLD
            assert service.counters["events"] > 0
            assert service.counters["rejected"] == 1

            health = DeviceHealth(
                household=HOUSEHOLD, sensor="hall_motion", ts=clock.now(), battery=5
            )
            await gateway.publish(
                topics.device_health(HOUSEHOLD, "hall_motion"), payload_json(health), qos=1
            )
            battery = await next_alert(watcher)
            assert battery.type is AlertType.BATTERY_LOW
        assert (tmp_path / f"{HOUSEHOLD}.state").is_file()

        # a new process: fresh core, state from the checkpoint
        restarted = DetectorService(config, clock)
        async with running(restarted):
            assert restarted.detector.learning_progress(HOUSEHOLD) == 1.0
            clock.set(fall + timedelta(hours=5))
            await asyncio.sleep(1.0)  # several ticks: the open alert is not raised again
            assert restarted.counters["ticks"] >= 2
            back = motion(Room.KITCHEN, clock.now(), seq=99)
            await gateway.publish(topics.events(HOUSEHOLD), payload_json(back), qos=1)
            resolved = await next_alert(watcher)
            assert resolved.alert_id == alert.alert_id
            assert resolved.status is AlertStatus.RESOLVED
            with pytest.raises(TimeoutError):  # and nothing else: no duplicate alert
                await next_alert(watcher, within_s=1.0)
            assert restarted.counters["alerts_published"] == 1


async def test_gateway_status_drives_gateway_offline(broker: BrokerSettings) -> None:
    config = DetectorConfig(broker=broker, tick_interval_s=0.2)
    detector, _, day, _ = warmed_up(days=2)
    clock = ManualClock(local(day, time(9, 0)))
    service = DetectorService(config, clock, detector=detector)
    async with make_client(broker) as watcher, make_client(broker) as gateway:
        await watcher.subscribe(topics.subscription(topics.Channel.ALERTS), qos=1)
        async with running(service):
            await gateway.publish(topics.gateway_status(HOUSEHOLD), b"offline", qos=1, retain=True)
            await asyncio.sleep(0.5)
            clock.advance(timedelta(minutes=10))
            alert = await next_alert(watcher)
            assert alert.type is AlertType.GATEWAY_OFFLINE
            await gateway.publish(topics.gateway_status(HOUSEHOLD), b"online", qos=1, retain=True)
            back = await next_alert(watcher)
            assert back.status is AlertStatus.RESOLVED


async def test_alerts_raised_while_the_broker_is_down_survive_a_restart(
    mosquitto_server: MosquittoServer, broker: BrokerSettings, tmp_path: Path
) -> None:
    config = DetectorConfig(broker=broker, tick_interval_s=0.2, state_dir=tmp_path)
    detector, _, day, _ = warmed_up()
    clock = ManualClock(local(day, time(0, 5)))
    service = DetectorService(config, clock, detector=detector)
    async with running(service):
        mosquitto_server.stop()
        clock.advance(timedelta(hours=1))
        service.handle(
            topics.device_health(HOUSEHOLD, "front_door"),
            payload_json(
                DeviceHealth(household=HOUSEHOLD, sensor="front_door", ts=clock.now(), battery=4)
            ),
        )
        await asyncio.sleep(0.5)
    assert (tmp_path / "outbox.jsonl").is_file()

    mosquitto_server.start()
    async with make_client(broker) as watcher:
        await watcher.subscribe(topics.subscription(topics.Channel.ALERTS), qos=1)
        async with running(DetectorService(config, clock)):
            alert = await next_alert(watcher)
            assert alert.type is AlertType.BATTERY_LOW
    assert not (tmp_path / "outbox.jsonl").exists()


def test_bad_or_skewed_messages_are_counted_not_fatal() -> None:
    now = local(START, time(12, 0))
    service = DetectorService(DetectorConfig(), ManualClock(now))
    future = motion(Room.KITCHEN, now + timedelta(hours=2))
    service.handle(topics.events(HOUSEHOLD), payload_json(future))
    service.handle(topics.events("someone-else"), payload_json(motion(Room.KITCHEN, now)))
    service.handle(topics.gateway_status(HOUSEHOLD), b"sideways")
    service.handle(topics.events(HOUSEHOLD), b"\xff\xfe")
    assert service.counters["rejected"] == 4
    assert service.counters["events"] == 0
    service.handle(topics.events(HOUSEHOLD), payload_json(motion(Room.KITCHEN, now)))
    assert service.counters["events"] == 1
