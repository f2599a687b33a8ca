"""A real `dagritme detector` process killed with SIGKILL mid-stream, then restarted."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt
import pytest

from dagritme import topics
from dagritme.models import (
    Alert,
    AlertStatus,
    AlertType,
    Availability,
    DeviceHealth,
    Room,
    payload_json,
)
from dagritme.mqtt import BrokerSettings, make_client
from detector.state import HouseholdState
from tests.detector.helpers import HOUSEHOLD, motion

pytestmark = pytest.mark.integration

ROOMS = (Room.KITCHEN, Room.LIVING, Room.BATHROOM, Room.LIVING)


async def start_detector(config: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "dagritme.cli", "detector", "--config", str(config)
    )


def saved_state(state_dir: Path) -> HouseholdState | None:
    path = state_dir / f"{HOUSEHOLD}.state"
    return HouseholdState.restore(HOUSEHOLD, path.read_bytes()) if path.is_file() else None


async def wait_for_presence(state_dir: Path, count: float) -> HouseholdState:
    async with asyncio.timeout(20):
        while True:
            state = saved_state(state_dir)
            if state is not None and state.presence_counter >= count:
                return state
            await asyncio.sleep(0.1)


async def collect(client: aiomqtt.Client, into: list[Alert]) -> None:
    async for message in client.messages:
        assert isinstance(message.payload, bytes)
        into.append(Alert.model_validate_json(message.payload))


async def publish_events(client: aiomqtt.Client, start: datetime, count: int, seq: int) -> None:
    for i in range(count):
        event = motion(ROOMS[i % len(ROOMS)], start + timedelta(seconds=20 * i), seq=seq + i)
        await client.publish(topics.events(HOUSEHOLD), payload_json(event), qos=1)


async def test_sigkill_mid_stream_keeps_learning_and_raises_no_alert_twice(
    broker: BrokerSettings, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    config = tmp_path / "detector.toml"
    config.write_text(
        "tick_interval_s = 0.2\n"
        "checkpoint_interval_s = 0.3\n"
        f'state_dir = "{state_dir}"\n'
        "[broker]\n"
        f'url = "{broker.url}"\n'
        'client_id = "detector-kill-test"\n'  # persistent session: QoS 1 waits for us
    )
    alerts: list[Alert] = []
    now = datetime.now(UTC)
    first = now - timedelta(hours=2)
    async with make_client(broker) as watcher, make_client(broker) as gateway:
        await watcher.subscribe(topics.subscription(topics.Channel.ALERTS), qos=1)
        collector = asyncio.create_task(collect(watcher, alerts))
        process = await start_detector(config)
        try:
            # the health report opens sensor_offline; repeat it until the detector is up
            async with asyncio.timeout(30):
                while not alerts:
                    health = DeviceHealth(
                        household=HOUSEHOLD,
                        sensor="kitchen-motion",
                        ts=datetime.now(UTC),
                        availability=Availability.OFFLINE,
                    )
                    await gateway.publish(
                        topics.device_health(HOUSEHOLD, health.sensor), payload_json(health), qos=1
                    )
                    await asyncio.sleep(0.3)
            await publish_events(gateway, first, 200, seq=0)
            before_kill = await wait_for_presence(state_dir, 200)
            process.send_signal(signal.SIGKILL)
            assert await process.wait() == -signal.SIGKILL
            killed = saved_state(state_dir)
            assert killed is not None
            assert killed.presence_counter == before_kill.presence_counter == 200
            assert "sensor_offline" in killed.open_alerts

            process = await start_detector(config)
            await publish_events(gateway, first + timedelta(seconds=20 * 200), 50, seq=200)
            await gateway.publish(
                topics.device_health(HOUSEHOLD, "kitchen-motion"),
                payload_json(health.model_copy(update={"ts": datetime.now(UTC)})),
                qos=1,
            )
            await wait_for_presence(state_dir, 250)
            await asyncio.sleep(1.0)  # ticks and health handling after the restart
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 20) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            collector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await collector
    final = saved_state(state_dir)
    assert final is not None
    assert final.presence_counter == 250, "learning continued from the checkpoint"
    opened_ids = {
        a.alert_id
        for a in alerts
        if a.status is AlertStatus.OPEN and a.type is AlertType.SENSOR_OFFLINE
    }
    assert len(opened_ids) == 1, "the open alert kept its id across the kill"
    assert {a.type for a in alerts if a.status is AlertStatus.OPEN} == {AlertType.SENSOR_OFFLINE}
