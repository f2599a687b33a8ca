"""Persist canonical events from the broker into the event store, losing none on a crash.

The consumer subscribes QoS 1 with a persistent session and acknowledges each message only
after the batch holding it is stored (and, for a buffering store, sent on to its backend).
Killed at any moment, even by SIGKILL, it loses nothing: the broker redelivers whatever was
not acknowledged; duplicates are harmless because writes are idempotent by event_id.

Flow: the session reads messages into the batch being built; a full batch (or one older
than `flush_interval_s`) goes to the writer task, which stores it in a worker thread,
retrying with backoff while the store is down, and then acknowledges it. Reading and
writing overlap. At most `max_unacked` messages are held: beyond that the reader stops
(backpressure), and with MQTT v5 the broker, told the same number as Receive Maximum,
stops sending and keeps the rest in the session. Payloads are validated with the contract
model; bad ones are counted, logged, acknowledged and dropped, never fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import NamedTuple, TypeVar

import aiomqtt
from pydantic import ValidationError

from dagritme import topics
from dagritme.clock import Clock, WallClock
from dagritme.models import Event
from dagritme.mqtt import BrokerSettings, acknowledge, reconnecting
from dagritme.topics import Channel, TopicError

from .base import BufferedStore, EventStore, StoreError
from .config import DEFAULT_CLIENT_ID, ConsumerSettings
from .mqtt_session import Protocol, consumer_client, handshake_refused

logger = logging.getLogger(__name__)

_LOG_EVERY_INVALID = 1000
_WRITE_BACKOFF_MAX_S = 10.0
T = TypeVar("T")


@dataclass
class ConsumerStats:
    """Counters of one consumer, for health checks and tests."""

    received: int = 0
    written: int = 0
    acknowledged: int = 0
    invalid: int = 0
    write_failures: int = 0
    retention_removed: int = 0
    backpressure_waits: int = 0


class Delivery(NamedTuple):
    """What acknowledging one message needs: its connection, identifier and QoS."""

    client: aiomqtt.Client
    mid: int
    qos: int


@dataclass
class Batch:
    events: list[Event] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)


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
        # None until known: with "auto", the first successful handshake decides.
        self.protocol: Protocol | None = (
            None if self.settings.mqtt_protocol == "auto" else Protocol(self.settings.mqtt_protocol)
        )
        self._next_attempt = Protocol.V5
        self._building = Batch()
        self._ready: asyncio.Queue[Batch] = asyncio.Queue()
        self._held = 0
        self._room = asyncio.Event()
        self._client: aiomqtt.Client | None = None

    @property
    def held(self) -> int:
        """Messages received and not yet acknowledged: what the consumer holds in memory."""
        return self._held

    @property
    def in_memory(self) -> int:
        """Messages in this process: held, plus those the client received but not yet read."""
        return self._held + (len(self._client.messages) if self._client is not None else 0)

    async def run(self) -> None:
        """Consume until cancelled, reconnecting with backoff."""
        tasks = [
            asyncio.create_task(self._write_batches()),
            asyncio.create_task(self._hand_off_periodically()),
        ]
        if self.retention_days is not None:
            tasks.append(asyncio.create_task(self._retain_periodically(self.retention_days)))
        try:
            await reconnecting("event store consumer", self._session)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._held:
                logger.info(
                    "stopped with %d events unstored; the broker redelivers them", self._held
                )

    # -- reading ---------------------------------------------------------------------------

    async def _session(self) -> None:
        protocol = self.protocol or self._next_attempt
        client = consumer_client(
            self.broker,
            protocol,
            receive_maximum=self.settings.max_unacked,
            session_expiry_s=self.settings.session_expiry_s,
        )
        connected = False
        try:
            async with client:
                connected = True
                self._client = client
                self.protocol = protocol
                await client.subscribe(topics.subscription(Channel.EVENTS), qos=1)
                self.subscribed.set()
                logger.info("consuming events from %s (MQTT %s)", self.broker.url, protocol.value)
                try:
                    await self._read(client)
                except asyncio.CancelledError:
                    await self._store_held_before_disconnecting()
                    raise
                finally:
                    self.subscribed.clear()
                    self._client = None
        except aiomqtt.MqttError as err:
            if not connected and self.protocol is None and handshake_refused(err):
                # A slow broker times out too: alternate until one handshake succeeds.
                self._next_attempt = Protocol.V311 if protocol is Protocol.V5 else Protocol.V5
                logger.warning(
                    "MQTT %s handshake failed (%s); trying %s",
                    protocol.value,
                    err,
                    self._next_attempt.value,
                )
            raise

    async def _read(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            event = self._accept(message)
            if event is None:
                acknowledge(client, message.mid, message.qos)  # dropped for good
                continue
            self._building.events.append(event)
            self._building.deliveries.append(Delivery(client, message.mid, message.qos))
            self._held += 1
            if len(self._building.events) >= self.settings.batch_size:
                self._hand_off()
            if self._held >= self.settings.max_unacked:
                await self._wait_for_room()

    def _accept(self, message: aiomqtt.Message) -> Event | None:
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
            return None
        return event

    async def _wait_for_room(self) -> None:
        # The partial batch must reach the writer, or nothing would ever make room.
        self._hand_off()
        self.stats.backpressure_waits += 1
        while self._held >= self.settings.max_unacked:
            self._room.clear()
            await self._room.wait()

    def _hand_off(self) -> None:
        if self._building.events:
            self._ready.put_nowait(self._building)
            self._building = Batch()

    async def _hand_off_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.settings.flush_interval_s)
            self._hand_off()

    async def _store_held_before_disconnecting(self) -> None:
        """On stop: store and acknowledge what is held while the connection is still up."""
        self._hand_off()
        try:
            await asyncio.wait_for(self._ready.join(), self.settings.shutdown_timeout_s)
        except TimeoutError:
            logger.warning("store did not take the held events before the shutdown timeout")

    # -- writing ---------------------------------------------------------------------------

    async def _write_batches(self) -> None:
        while True:
            batch = await self._ready.get()
            await self._store_until_accepted(batch.events)
            self.stats.written += len(batch.events)
            for delivery in batch.deliveries:
                if acknowledge(*delivery):
                    self.stats.acknowledged += 1
            self._held -= len(batch.events)
            self._room.set()
            self._ready.task_done()

    async def _store_until_accepted(self, events: list[Event]) -> None:
        """Write, and for a buffering store send on, retrying with backoff until done."""
        backoff = 0.1
        failing = False
        written = False
        while True:
            try:
                if not written:
                    await _in_thread(self.store.write, events)
                    written = True
                if isinstance(self.store, BufferedStore) and not await _in_thread(self.store.flush):
                    raise StoreError(f"{self.store.pending} events still waiting for the backend")
            except StoreError as err:
                self.stats.write_failures += 1
                if not failing:
                    logger.warning("event store write failed (%s); holding the batch", err)
                    failing = True
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _WRITE_BACKOFF_MAX_S)
                continue
            if failing:
                logger.info("event store writes work again")
            return

    # -- retention -------------------------------------------------------------------------

    async def _retain_periodically(self, days: int) -> None:
        while True:
            cutoff = self.clock.now() - timedelta(days=days)
            try:
                removed = await _in_thread(self.store.apply_retention, cutoff)
            except StoreError as err:
                logger.warning("retention failed, will try again: %s", err)
            except Exception:  # the loop must outlive one bad run
                logger.exception("retention failed unexpectedly")
            else:
                self.stats.retention_removed += removed
            await asyncio.sleep(self.settings.retention_interval_s)


async def _in_thread(function: Callable[..., T], *args: object) -> T:
    """Run in a worker thread; when cancelled, let the thread finish before giving up.

    A thread cannot be interrupted: returning early would let the caller close the store
    under a write still in progress.
    """
    future = asyncio.ensure_future(asyncio.to_thread(function, *args))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        with contextlib.suppress(StoreError):
            await future
        raise


def _short_reason(err: Exception) -> str:
    if isinstance(err, ValidationError):
        return f"{err.error_count()} validation error(s), first at " + ".".join(
            str(part) for part in err.errors()[0]["loc"]
        )
    return str(err)[:200]
