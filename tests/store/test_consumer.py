"""The broker -> store consumer against a real mosquitto (and a real influxd for outages)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import aiomqtt
import pytest
from aiomqtt.exceptions import MqttConnectError

from dagritme import topics
from dagritme.clock import ManualClock
from dagritme.models import Event, payload_json
from dagritme.mqtt import BrokerSettings, make_client
from store.config import ConsumerSettings, InfluxSettings
from store.consumer import EventConsumer
from store.influx import InfluxEventStore
from store.influx_server import InfluxServer
from store.mqtt_session import handshake_refused
from store.sqlite import SqliteEventStore

from .factories import event

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def events_for(household: str, count: int, first_seq: int = 0) -> list[Event]:
    return [
        event(T0 + timedelta(seconds=i), household=household, seq=i, active=i % 2 == 0)
        for i in range(first_seq, first_seq + count)
    ]


async def publish(broker: BrokerSettings, payloads: Sequence[tuple[str, bytes]]) -> None:
    # A client id of its own: reusing the consumer's would take over its session.
    async with make_client(broker.model_copy(update={"client_id": None})) as client:
        for topic, payload in payloads:
            await client.publish(topic, payload, qos=1)


def as_payloads(events: Sequence[Event]) -> list[tuple[str, bytes]]:
    return [(topics.events(e.household), payload_json(e)) for e in events]


async def wait_until(condition: Callable[[], bool], within_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running(consumer: EventConsumer) -> AsyncIterator[EventConsumer]:
    task = asyncio.create_task(consumer.run())
    try:
        await asyncio.wait_for(consumer.subscribed.wait(), 10)
        yield consumer
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
def sqlite_store(tmp_path: Path) -> SqliteEventStore:
    return SqliteEventStore(tmp_path / "events.sqlite")


async def test_persists_valid_events_and_counts_bad_ones(
    broker: BrokerSettings, sqlite_store: SqliteEventStore
) -> None:
    good = events_for("hh-1", 300) + events_for("hh-2", 50)
    wrong_household = event(T0, household="hh-9")
    bad = [
        (topics.events("hh-1"), b"not json"),
        (topics.events("hh-1"), b'{"event_id": "x"}'),
        (topics.events("hh-1"), payload_json(wrong_household)),  # spoofed household
    ]
    consumer = EventConsumer(broker, sqlite_store, ConsumerSettings(batch_size=100))
    async with running(consumer):
        await publish(broker, as_payloads(good[:200]) + bad + as_payloads(good[200:]))
        await wait_until(lambda: consumer.stats.received == len(good) + len(bad))
        await wait_until(lambda: sqlite_store.count() == len(good))
    assert consumer.stats.invalid == 3
    assert sqlite_store.count("hh-2") == 50
    assert sorted(e.event_id for e in sqlite_store.export("hh-1")) == sorted(
        e.event_id for e in good[:300]
    )


async def test_flushes_a_partial_batch_after_the_interval(
    broker: BrokerSettings, sqlite_store: SqliteEventStore
) -> None:
    settings = ConsumerSettings(batch_size=10_000, max_unacked=10_000, flush_interval_s=0.2)
    async with running(EventConsumer(broker, sqlite_store, settings)):
        await publish(broker, as_payloads(events_for("hh-1", 7)))
        await wait_until(lambda: sqlite_store.count() == 7, within_s=3)


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_resumes_after_restart_without_loss_or_duplicates(
    broker: BrokerSettings, sqlite_store: SqliteEventStore, protocol: Literal["5", "3.1.1"]
) -> None:
    broker = broker.model_copy(update={"client_id": "store-test-persistent"})
    settings = ConsumerSettings(mqtt_protocol=protocol)
    first, while_down, after = (
        events_for("hh-1", 100),
        events_for("hh-1", 400, 100),
        events_for("hh-1", 100, 500),
    )
    async with running(EventConsumer(broker, sqlite_store, settings)):
        await publish(broker, as_payloads(first))
        await wait_until(lambda: sqlite_store.count() == 100)
    # The service is down: the broker keeps these for the persistent session.
    await publish(broker, as_payloads(while_down))
    async with running(EventConsumer(broker, sqlite_store, settings)):
        await publish(broker, as_payloads(after + first[:50]))  # a retrying gateway resends
        await wait_until(lambda: sqlite_store.count() == 600)
        await asyncio.sleep(0.3)
    assert sqlite_store.count() == 600
    assert [e.seq for e in sqlite_store.export("hh-1")] == list(range(600))


async def test_stops_reading_while_influxdb_is_down_and_loses_nothing(
    broker: BrokerSettings,
) -> None:
    server = InfluxServer().start()
    try:
        server.create_database("outage")
        settings = InfluxSettings(
            url=server.url,
            database="outage",
            retry_attempts=2,
            retry_backoff_s=0.05,
            retry_backoff_max_s=0.2,
            buffer_max_points=1000,
        )
        store = InfluxEventStore(settings)
        window = 300
        consumer = EventConsumer(
            broker, store, ConsumerSettings(batch_size=100, max_unacked=window)
        )
        async with running(consumer):
            await publish(broker, as_payloads(events_for("hh-1", 200)))
            await wait_until(lambda: consumer.stats.written == 200)
            server.stop()
            # Ten times the window: the broker must keep most of it, not the consumer.
            await publish(broker, as_payloads(events_for("hh-1", 3000, 200)))
            await wait_until(lambda: consumer.stats.backpressure_waits > 0)
            await wait_until(lambda: consumer.stats.write_failures > 2)
            assert consumer.held == window
            assert consumer.in_memory <= window
            assert consumer.stats.received <= 200 + window
            assert consumer.stats.acknowledged == 200  # nothing unstored is acknowledged
            server.start()
            await wait_until(lambda: consumer.stats.written == 3200, within_s=30)
            await wait_until(lambda: consumer.held == 0)
        exported = list(store.export("hh-1"))
        assert [e.seq for e in exported] == list(range(3200))
        assert store.pending == 0
        store.close()
    finally:
        server.close()


async def test_service_process_persists_and_stops_cleanly_on_sigterm(
    broker: BrokerSettings, tmp_path: Path
) -> None:
    db = tmp_path / "events.sqlite"
    config = tmp_path / "store.toml"
    config.write_text(
        f'[broker]\nurl = "{broker.url}"\nclient_id = "store-service-test"\n'
        f'[store.sqlite]\npath = "{db}"\n[consumer]\nflush_interval_s = 0.1\n'
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "dagritme.cli", "store", "--config", str(config)
    )
    try:
        # Until the service has subscribed, QoS 1 messages would go nowhere: publish the
        # first one until it is stored, then the rest.
        store = SqliteEventStore(db)
        probe = events_for("hh-1", 1)
        deadline = asyncio.get_running_loop().time() + 15
        while store.count() == 0:
            assert asyncio.get_running_loop().time() < deadline, "service never stored"
            await publish(broker, as_payloads(probe))
            await asyncio.sleep(0.2)
        await publish(broker, as_payloads(events_for("hh-1", 200)))
        await wait_until(lambda: store.count() == 200)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
        store.close()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_shutdown_flushes_the_partial_batch(
    broker: BrokerSettings, sqlite_store: SqliteEventStore
) -> None:
    settings = ConsumerSettings(batch_size=10_000, max_unacked=10_000, flush_interval_s=30)
    consumer = EventConsumer(broker, sqlite_store, settings)
    async with running(consumer):
        await publish(broker, as_payloads(events_for("hh-1", 5)))
        await wait_until(lambda: consumer.stats.received == 5)
        assert sqlite_store.count() == 0  # still batched
    assert sqlite_store.count() == 5


async def test_applies_retention_by_the_injected_clock(
    broker: BrokerSettings, sqlite_store: SqliteEventStore
) -> None:
    sqlite_store.write([event(T0 - timedelta(days=d), seq=d) for d in range(10)])
    consumer = EventConsumer(
        broker, sqlite_store, retention_days=5, clock=ManualClock(T0 + timedelta(hours=1))
    )
    async with running(consumer):
        await wait_until(lambda: consumer.stats.retention_removed == 5)
    assert [e.seq for e in sqlite_store.export("hh-1")] == [4, 3, 2, 1, 0]


def test_tells_a_v3_only_broker_from_an_unreachable_one() -> None:
    assert handshake_refused(aiomqtt.MqttError("Operation timed out"))
    assert handshake_refused(MqttConnectError(132))  # unsupported protocol version
    assert not handshake_refused(MqttConnectError(5))  # not authorised
    assert not handshake_refused(aiomqtt.MqttError("[Errno 111] Connection refused"))
