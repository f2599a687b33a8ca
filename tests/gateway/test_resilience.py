"""No loss, no duplicates: SIGKILL of the gateway process and a central broker outage."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dagritme.clock import WallClock
from dagritme.mqtt import BrokerSettings
from dagritme.servers import MosquittoServer
from gateway.config import GatewayConfig
from gateway.outbox import Outbox
from gateway.service import Gateway
from tests.gateway.conftest import (
    HOUSEHOLD,
    StateChanges,
    durable_consumer,
    poll_until,
    publisher,
    running,
    wait_until_subscribed,
    write_config,
)

pytestmark = pytest.mark.integration

TOTAL = 600
PAUSE_EVERY = 20


def start_gateway_process(config_file: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "dagritme.cli", "gateway", "--config", str(config_file)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def queued(config: GatewayConfig) -> int:
    outbox = Outbox(config.queue_path)
    try:
        return outbox.count
    finally:
        outbox.close()


async def test_sigkill_mid_stream_loses_and_duplicates_nothing(
    gateway_config: GatewayConfig,
    broker: BrokerSettings,
    consumer_settings: BrokerSettings,
    tmp_path: Path,
) -> None:
    config_file = write_config(tmp_path / "gateway.toml", gateway_config)
    log = tmp_path / "gateway.log"
    changes = StateChanges(HOUSEHOLD, gateway_config.devices, datetime.now(UTC))
    process = start_gateway_process(config_file, log)
    try:
        async with durable_consumer(consumer_settings, HOUSEHOLD) as seen, publisher(broker) as z2m:
            # From its first subscription on, the home broker keeps the gateway's session.
            await wait_until_subscribed(consumer_settings, HOUSEHOLD)
            killed_at = TOTAL // 3
            while changes.sent < TOTAL:
                await z2m.publish(*changes.next(), qos=1)
                if changes.sent == killed_at:
                    process.send_signal(signal.SIGKILL)
                    process.wait(5)
                    process = start_gateway_process(config_file, log)
                if changes.sent % PAUSE_EVERY == 0:
                    await asyncio.sleep(0.005)
            complete = await poll_until(lambda: len(seen.by_id()) >= TOTAL, 20)
            await asyncio.sleep(0.3)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)
    assert complete, log.read_text()
    received = set(seen.by_id())
    assert received - changes.expected == set()  # nothing invented or doubled
    assert changes.expected - received == set()  # nothing lost
    assert sorted(event.seq for event in seen.by_id().values()) == list(range(TOTAL))
    assert queued(gateway_config) == 0


async def test_central_outage_and_restart_keep_every_event_with_its_time(
    gateway_config: GatewayConfig,
    broker: BrokerSettings,
    consumer_settings: BrokerSettings,
    central_server: MosquittoServer,
) -> None:
    changes = StateChanges(HOUSEHOLD, gateway_config.devices, datetime.now(UTC))
    gateway = Gateway(gateway_config, WallClock())
    async with (
        durable_consumer(consumer_settings, HOUSEHOLD) as seen,
        running(gateway),
        publisher(broker) as z2m,
    ):
        for _ in range(TOTAL // 3):
            await z2m.publish(*changes.next(), qos=1)
        central_server.stop()  # outage: the queue holds what arrives meanwhile
        for _ in range(TOTAL // 3):
            await z2m.publish(*changes.next(), qos=1)
        assert await poll_until(lambda: gateway.counters["home_messages"] >= 2 * TOTAL // 3)
        assert gateway.outbox.count > 0
        await asyncio.to_thread(central_server.start)
        while changes.sent < TOTAL:
            await z2m.publish(*changes.next(), qos=1)
            if changes.sent == TOTAL - TOTAL // 6:
                await asyncio.to_thread(central_server.restart)  # and a restart mid-stream
        complete = await poll_until(lambda: len(seen.by_id()) >= TOTAL, 30)
        await asyncio.sleep(0.3)
    assert complete, central_server.log_text()[-2000:]
    received = seen.by_id()
    assert set(received) == changes.expected
    assert sorted(event.seq for event in received.values()) == list(range(TOTAL))
    assert queued(gateway_config) == 0
