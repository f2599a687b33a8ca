"""Consumer throughput for `dagritme bench store`: broker -> EventConsumer -> InfluxDB.

Two figures, both through a real mosquitto and a real influxd:
- live: from the first publish until the last event is stored, with a publisher in the
  same process competing for the two cores (what a busy deployment sees);
- drain: events queued in the persistent session while the consumer was down, stored
  after it starts again (how fast it catches up after a restart).
Both with the consumer's defaults: MQTT v5 with Receive Maximum, and every message
acknowledged only once InfluxDB has it (so a figure includes the HTTP round trips).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from dagritme import topics
from dagritme.models import Event, payload_json
from dagritme.mqtt import BrokerSettings, make_client
from dagritme.servers import MosquittoServer

from .config import InfluxSettings
from .consumer import EventConsumer
from .influx import InfluxEventStore

logger = logging.getLogger(__name__)

WAIT_LIMIT_S = 120.0


@contextlib.asynccontextmanager
async def _running(consumer: EventConsumer) -> AsyncIterator[EventConsumer]:
    task = asyncio.create_task(consumer.run())
    try:
        await asyncio.wait_for(consumer.subscribed.wait(), 10)
        yield consumer
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _publish(broker: BrokerSettings, events: list[Event]) -> None:
    payloads = [(topics.events(e.household), payload_json(e)) for e in events]
    async with make_client(broker) as client:
        # Several publishes in flight, as a fleet of gateways would have.
        for first in range(0, len(payloads), 500):
            chunk = payloads[first : first + 500]
            await asyncio.gather(*(client.publish(t, p, qos=1) for t, p in chunk))


async def _stored(consumer: EventConsumer, count: int) -> None:
    deadline = time.perf_counter() + WAIT_LIMIT_S
    while time.perf_counter() < deadline:
        if consumer.stats.written >= count:
            return
        await asyncio.sleep(0.01)
    raise RuntimeError(f"consumer stored {consumer.stats.written} of {count}")


async def _live_and_drain(
    broker: BrokerSettings, store: InfluxEventStore, live: list[Event], drain: list[Event]
) -> tuple[float, float]:
    consumer_broker = broker.model_copy(update={"client_id": "store-bench"})
    consumer = EventConsumer(consumer_broker, store)
    async with _running(consumer):
        started = time.perf_counter()
        await _publish(broker, live)
        await _stored(consumer, len(live))
        live_rate = len(live) / (time.perf_counter() - started)
    await _publish(broker, drain)  # the consumer is down: the session keeps these
    consumer = EventConsumer(consumer_broker, store)
    started = time.perf_counter()
    async with _running(consumer):
        await _stored(consumer, len(drain))
        drain_rate = len(drain) / (time.perf_counter() - started)
    return live_rate, drain_rate


def measure_consumer(influx_url: str, events: list[Event]) -> dict[str, Any]:
    """Split `events` in a live half and a drain half; needs database `bench_consumer`."""
    half = len(events) // 2
    mosquitto = MosquittoServer().start()
    try:
        store = InfluxEventStore(InfluxSettings(url=influx_url, database="bench_consumer"))
        try:
            live, drain = asyncio.run(
                _live_and_drain(
                    BrokerSettings(url=mosquitto.url), store, events[:half], events[half:]
                )
            )
        finally:
            store.close()
    finally:
        mosquitto.close()
    return {
        "consumer_events": len(events),
        "consumer_live_events_per_s": round(live),
        "consumer_drain_events_per_s": round(drain),
    }
