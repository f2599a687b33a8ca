"""Persist canonical events from the broker into the event store.

The consumer subscribes QoS 1 to every household's events topic with a persistent session
(clean_session=False and a fixed client id), so the broker keeps what arrives while the
service restarts. Payloads are validated with the contract model; bad ones are counted and
logged, never fatal. Events are written in batches, by size or after `flush_interval_s`,
in a worker thread so the event loop keeps receiving. A failed write is retried with backoff
while the batch is held, which pushes back on the broker instead of dropping anything; on
shutdown the last batch is flushed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

import aiomqtt
from pydantic import ValidationError

from dagritme import topics
from dagritme.clock import Clock, WallClock
from dagritme.models import Event
from dagritme.mqtt import BrokerSettings, make_client, reconnecting
from dagritme.topics import Channel, TopicError

from .base import EventStore, StoreError
from .config import DEFAULT_CLIENT_ID, ConsumerSettings

logger = logging.getLogger(__name__)

_LOG_EVERY_INVALID = 1000
_WRITE_BACKOFF_MAX_S = 10.0


@dataclass
class ConsumerStats:
    """Counters of one consumer, for health checks and tests."""

    received: int = 0
    written: int = 0
    invalid: int = 0
    write_failures: int = 0
    retention_removed: int = 0


class EventConsumer:
    """Broker -> EventStore. `await run()` until cancelled."""

    def __init__(
        self,
        broker: BrokerSettings,
        store: EventStore,
        settings: ConsumerSettings | None = None,
        *,
        retention_days: int | None = None,
        clock: Clock | None = None,
    ) -> None:
        if not broker.client_id:
            broker = broker.model_copy(update={"client_id": DEFAULT_CLIENT_ID})
        self.broker = broker
        self.store = store
        self.settings = settings or ConsumerSettings()
        self.retention_days = retention_days
        self.clock = clock or WallClock()
        self.stats = ConsumerStats()
        self.subscribed = asyncio.Event()
        self._batch: list[Event] = []
        self._flush_lock = asyncio.Lock()

    async def run(self) -> None:
        """Consume until cancelled, reconnecting with backoff; flushes the last batch on exit."""
        tasks = [asyncio.create_task(self._flush_periodically())]
        if self.retention_days is not None:
            tasks.append(asyncio.create_task(self._retain_periodically(self.retention_days)))
        try:
            await reconnecting("event store consumer", self._session)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._final_flush()

    async def _session(self) -> None:
        async with make_client(self.broker, clean_session=False) as client:
            await client.subscribe(topics.subscription(Channel.EVENTS), qos=1)
            self.subscribed.set()
            logger.info("consuming events from %s", self.broker.url)
            try:
                async for message in client.messages:
                    self._accept(message)
                    if len(self._batch) >= self.settings.batch_size:
                        await self.flush()
            finally:
                self.subscribed.clear()

    def _accept(self, message: aiomqtt.Message) -> None:
        self.stats.received += 1
        try:
            topic = topics.parse(str(message.topic))
            if not isinstance(message.payload, bytes | bytearray | str):
                raise ValueError("payload is not text")
            event = Event.model_validate_json(message.payload)
            if event.household != topic.household:
                raise ValueError("household in payload differs from the topic")
        except (TopicError, ValidationError, ValueError) as err:
            self.stats.invalid += 1
            if self.stats.invalid <= 10 or self.stats.invalid % _LOG_EVERY_INVALID == 0:
                logger.warning(
                    "invalid event payload #%d dropped: %s",
                    self.stats.invalid,
                    _short_reason(err),
                )
            return
        self._batch.append(event)

    async def flush(self) -> None:
        """Write the current batch, retrying with backoff until the store takes it."""
        async with self._flush_lock:
            batch, self._batch = self._batch, []
            try:
                await self._write_until_accepted(batch)
            except asyncio.CancelledError:
                # Shutting down: hand the batch to the final flush. Writes are idempotent,
                # so a batch the worker thread did store is harmless to write again.
                self._batch = batch + self._batch
                raise

    async def _write_until_accepted(self, batch: list[Event]) -> None:
        backoff = 0.1
        failing = False
        while batch:
            try:
                await asyncio.to_thread(self.store.write, batch)
            except StoreError as err:
                self.stats.write_failures += 1
                if not failing:
                    logger.warning("event store write failed (%s); holding the batch", err)
                    failing = True
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _WRITE_BACKOFF_MAX_S)
                continue
            self.stats.written += len(batch)
            if failing:
                logger.info("event store writes work again")
            return

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.settings.flush_interval_s)
            try:
                if self._batch:
                    await self.flush()
            except Exception:  # the loop must outlive one bad flush
                logger.exception("periodic flush failed")

    async def _retain_periodically(self, days: int) -> None:
        while True:
            cutoff = self.clock.now() - timedelta(days=days)
            try:
                removed = await asyncio.to_thread(self.store.apply_retention, cutoff)
            except StoreError as err:
                logger.warning("retention failed, will try again: %s", err)
            except Exception:  # the loop must outlive one bad run
                logger.exception("retention failed unexpectedly")
            else:
                self.stats.retention_removed += removed
            await asyncio.sleep(self.settings.retention_interval_s)

    async def _final_flush(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        try:
            await asyncio.to_thread(self.store.write, batch)
            self.stats.written += len(batch)
        except StoreError as err:
            logger.error("shutting down with %d events not stored: %s", len(batch), err)


def _short_reason(err: Exception) -> str:
    if isinstance(err, ValidationError):
        return f"{err.error_count()} validation error(s), first at " + ".".join(
            str(part) for part in err.errors()[0]["loc"]
        )
    return str(err)[:200]
