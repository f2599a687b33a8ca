"""The running gateway: home broker in, store-and-forward queue, central broker out.

Composition root of the gateway. Two sessions run side by side, each in its own reconnect
loop: the home session normalises Zigbee2MQTT messages, commits what must leave the home to
the queue and only then acknowledges the home broker's messages; the upstream session sends
the queue to the central broker with QoS 1 and deletes each row after its PUBACK. Health and
heartbeats are state, not history: only the latest per device is kept and sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import TypeVar

import aiomqtt

from dagritme import topics
from dagritme.clock import Clock
from dagritme.models import DeviceHealth, Event, GatewayHeartbeat, payload_json
from dagritme.mqtt import make_client, reconnecting
from gateway import sources, z2m
from gateway.client_tuning import (
    acknowledge,
    allow_inflight,
    disable_nagle,
    enable_manual_ack,
    take_queued,
)
from gateway.config import GatewayConfig, Sharing
from gateway.edge import DailySummaries, LocalDetector, summaries_topic
from gateway.outbox import Outbox, OutgoingMessage, QueuedMessage
from gateway.upstream import PublishWindow, unless_lost
from gateway.z2m import Z2MNormaliser

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Home-broker messages committed to the queue in one transaction at most.
MAX_INGEST_BATCH = 2_000
# How long the first message of a batch waits for others to share its commit (and fsync).
COMMIT_LINGER_S = 0.002
# Pause before restarting a task that failed on something other than the broker connection.
FAILURE_PAUSE_S = 5.0
# Acknowledged rows are deleted in batches of this many (or when nothing is in flight).
DELETE_BATCH = 1_000
# Queued rows read from SQLite at once for publishing.
PEEK_BATCH = 500
# How long a graceful stop waits to say `offline` before the last will would anyway.
GOODBYE_TIMEOUT_S = 2.0


class Gateway:
    """One home's gateway. `await run()` until cancelled; it reconnects on its own.

    `detector` is the edge-mode hook: it sees every event, its alerts go upstream through
    the same queue; with `sharing` other than "events" raw events never leave the home.
    """

    def __init__(
        self, config: GatewayConfig, clock: Clock, detector: LocalDetector | None = None
    ) -> None:
        self.config = config
        self.clock = clock
        self.detector = detector
        self.counters: Counter[str] = Counter()
        self.home_connected = False
        self.central_connected = False
        # Set once the home subscription stands: from then on the home broker keeps
        # messages for the gateway's persistent session, even across reconnects.
        self.subscribed = asyncio.Event()
        self._outbox: Outbox | None = None
        self._normaliser: Z2MNormaliser | None = None
        self._summaries = (
            DailySummaries(config.household, config.timezone)
            if config.sharing is Sharing.SUMMARIES
            else None
        )
        self._pending_health: dict[str, DeviceHealth] = {}
        self._wakeup = asyncio.Event()
        self._heartbeat_seq = 0

    # -- lifecycle ------------------------------------------------------------------------

    async def run(self) -> None:
        config = self.config
        self._outbox = Outbox(
            config.queue_path, max_rows=config.queue_max_rows, synchronous=config.queue_synchronous
        )
        # All queue I/O runs on one thread of its own, so an fsync does not stall MQTT.
        self._queue_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gw-queue")
        try:
            self._normaliser = Z2MNormaliser(
                config.household,
                config.devices,
                self.clock,
                base_topic=config.base_topic,
                first_seq=self._outbox.next_seq,
                states=self._outbox.load_states(),
                max_payload_bytes=config.max_payload_bytes,
                max_clock_skew=timedelta(seconds=config.max_clock_skew_s),
                health_interval=timedelta(seconds=config.health_interval_s),
                health_detail=config.sharing is Sharing.EVENTS,
                source_topics=config.source_topics(),
            )
            logger.info(
                "gateway for %s starting: %d device(s), sharing=%s, %d queued",
                config.household,
                len(config.devices),
                config.sharing.value,
                self._outbox.count,
            )
            async with asyncio.TaskGroup() as group:
                group.create_task(self._supervised("home broker", self._home_session))
                group.create_task(self._supervised("central broker", self._upstream_session))
                if self.detector is not None or self._summaries is not None:
                    group.create_task(self._supervised("edge ticks", self._tick_loop))
        finally:
            self._queue_thread.shutdown(wait=True)
            self._outbox.close()
            self._outbox = None

    async def _supervised(self, name: str, session: Callable[[], Awaitable[None]]) -> None:
        while True:
            try:
                await reconnecting(
                    f"{self.config.household} {name}",
                    session,
                    max_backoff_s=self.config.reconnect_max_backoff_s,
                )
                return
            except Exception:
                logger.exception("%s: %s failed; restarting", self.config.household, name)
                await asyncio.sleep(FAILURE_PAUSE_S)

    @property
    def outbox(self) -> Outbox:
        if self._outbox is None:
            raise RuntimeError("the gateway is not running")
        return self._outbox

    @property
    def normaliser(self) -> Z2MNormaliser:
        if self._normaliser is None:
            raise RuntimeError("the gateway is not running")
        return self._normaliser

    # -- home side ------------------------------------------------------------------------

    async def _home_session(self) -> None:
        client = make_client(self.config.home_client(), clean_session=False)
        enable_manual_ack(client)
        # The queue is the truth about device states (also after a failed commit).
        states = await self._in_queue_thread(self.outbox.load_states)
        self.normaliser.restore(states, self.outbox.next_seq)
        if self._summaries is not None:
            # Likewise the open days' counts: events of unacknowledged messages come again.
            self._summaries.restore(await self._in_queue_thread(self.outbox.load_day_counts))
        async with client:
            disable_nagle(client)
            filters = [z2m.subscription(self.config.base_topic)] + sources.subscriptions(
                ((device.source, device.friendly_name) for device in self.config.devices),
                self.config.source_topics(),
            )
            await client.subscribe([(topic_filter, 1) for topic_filter in filters])
            self.home_connected = True
            self.subscribed.set()
            logger.info("%s: connected to the home broker", self.config.household)
            try:
                await self._ingest(client)
            finally:
                self.home_connected = False

    async def _ingest(self, client: aiomqtt.Client) -> None:
        loop = asyncio.get_running_loop()
        incoming = aiter(client.messages)
        unacked: list[aiomqtt.Message] = []
        outgoing: list[OutgoingMessage] = []
        # The next message, awaited but never cancelled while the session lasts: cancelling
        # aiomqtt's iterator just as it took a message from its queue would lose that message.
        upcoming: asyncio.Future[aiomqtt.Message] | None = None
        try:
            while True:
                if upcoming is None:
                    upcoming = asyncio.ensure_future(anext(incoming))
                await asyncio.wait({upcoming})
                # Group commit: one transaction (one fsync) for what arrives within the
                # linger, instead of one per message when the gateway keeps up.
                deadline = loop.time() + COMMIT_LINGER_S
                while upcoming is not None and upcoming.done():
                    first, upcoming = upcoming.result(), None
                    for message in (first, *take_queued(client)):
                        outgoing.extend(self._normalise_message(message))
                        unacked.append(message)
                    remaining = deadline - loop.time()
                    if remaining > 0 and len(unacked) < MAX_INGEST_BATCH:
                        upcoming = asyncio.ensure_future(anext(incoming))
                        await asyncio.wait({upcoming}, timeout=remaining)
                # Handed over before the await: a cancelled commit still completes on the
                # queue thread, and `finally` must not queue the same batch again.
                batch, unacked, queued, outgoing = unacked, [], outgoing, []
                await self._commit_and_ack(client, batch, queued)
        finally:
            if upcoming is not None:
                upcoming.cancel()
            if unacked:
                # Connection lost or stopping: keep what was normalised; the broker redelivers
                # the unacknowledged messages and they add nothing twice.
                await self._commit(outgoing)

    def _normalise_message(self, message: aiomqtt.Message) -> list[OutgoingMessage]:
        payload = message.payload
        raw = bytes(payload) if isinstance(payload, bytes | bytearray) else str(payload).encode()
        return self._normalise(message.topic.value, raw, message.retain)

    async def _commit_and_ack(
        self,
        client: aiomqtt.Client,
        messages: list[aiomqtt.Message],
        outgoing: list[OutgoingMessage],
    ) -> None:
        # Committed first, acknowledged after: a crash in between means redelivery, which
        # the persisted device states recognise as nothing new.
        await self._commit(outgoing)
        for message in messages:
            acknowledge(client, message)
        self.counters["home_messages"] += len(messages)

    def _normalise(self, topic: str, payload: bytes, retained: bool) -> list[OutgoingMessage]:
        household = self.config.household
        outgoing: list[OutgoingMessage] = []
        for output in self.normaliser.handle(topic, payload, retained):
            if isinstance(output, DeviceHealth):
                self._pending_health[output.sensor] = output
                self._wakeup.set()
                continue
            self.counters["events"] += 1
            if self.config.sharing is Sharing.EVENTS:
                outgoing.append(OutgoingMessage(topics.events(household), payload_json(output)))
            if self._summaries is not None:
                self._summaries.add(output)
            outgoing.extend(self._observe(output))
        return outgoing

    def _observe(self, event: Event) -> list[OutgoingMessage]:
        if self.detector is None:
            return []
        topic = topics.alerts(self.config.household)
        return [
            OutgoingMessage(topic, payload_json(alert)) for alert in self.detector.observe(event)
        ]

    async def _commit(self, outgoing: list[OutgoingMessage]) -> None:
        normaliser = self.normaliser
        await self._in_queue_thread(
            functools.partial(
                self.outbox.commit,
                outgoing,
                normaliser.take_dirty_states(),
                normaliser.next_seq,
                day_counts=self._summaries.take_dirty() if self._summaries is not None else None,
            )
        )
        if outgoing:
            self._wakeup.set()

    async def _tick_loop(self) -> None:
        household = self.config.household
        while True:
            await asyncio.sleep(self.config.tick_interval_s)
            now = self.clock.now()
            outgoing: list[OutgoingMessage] = []
            if self.detector is not None:
                outgoing += [
                    OutgoingMessage(topics.alerts(household), payload_json(alert))
                    for alert in self.detector.tick(now)
                ]
            finished: list[date] = []
            if self._summaries is not None:
                for summary in self._summaries.due(now):
                    outgoing.append(
                        OutgoingMessage(summaries_topic(household), payload_json(summary))
                    )
                    finished.append(summary.day)
            if outgoing:
                # A summary is queued in the transaction that forgets its day's counts.
                await self._in_queue_thread(
                    functools.partial(self.outbox.commit, outgoing, finished_days=finished)
                )
                self._wakeup.set()

    # -- central side ---------------------------------------------------------------------

    async def _upstream_session(self) -> None:
        status = topics.gateway_status(self.config.household)
        will = aiomqtt.Will(status, b"offline", qos=1, retain=True)
        client = make_client(self.config.central_client(), will=will, clean_session=True)
        # The window bounds what is in flight; paho's own limit would only cost time.
        allow_inflight(client, 0)
        async with client:
            disable_nagle(client)
            await client.publish(status, b"online", qos=1, retain=True)
            self.central_connected = True
            logger.info("%s: connected to the central broker", self.config.household)
            try:
                await self._forward(client)
            except asyncio.CancelledError:
                # A deliberate stop: say so now rather than leaving the status to the will.
                with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                    await asyncio.wait_for(
                        client.publish(status, b"offline", qos=1, retain=True), GOODBYE_TIMEOUT_S
                    )
                raise
            finally:
                self.central_connected = False

    async def _forward(self, client: aiomqtt.Client) -> None:
        loop = asyncio.get_running_loop()
        next_heartbeat = loop.time()
        window = PublishWindow(client, self.config.upstream_window, self._wakeup)
        # Rows read from the queue but not yet published, oldest first.
        unsent: deque[QueuedMessage] = deque()
        after_id = 0
        try:
            while True:
                self._wakeup.clear()
                window.check_connected()
                if loop.time() >= next_heartbeat:
                    await self._heartbeat(client)
                    next_heartbeat = loop.time() + self.config.heartbeat_interval_s
                await self._send_health(client)
                while window.room > 0:
                    if not unsent:
                        unsent.extend(
                            await self._in_queue_thread(
                                functools.partial(
                                    self.outbox.peek, max(PEEK_BATCH, window.size), after_id
                                )
                            )
                        )
                        if not unsent:
                            break
                        after_id = unsent[-1].id
                    window.publish(unsent.popleft())
                if len(window.acked) >= DELETE_BATCH or (window.acked and not window.in_flight):
                    await self._forget(window)
                if self._pending_health or self._wakeup.is_set():
                    continue
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(0.0, next_heartbeat - loop.time())):
                        await self._wakeup.wait()
        finally:
            await self._forget(window)

    async def _forget(self, window: PublishWindow) -> None:
        """Delete acknowledged rows in one transaction (a crash before it only resends)."""
        acked = window.take_acked()
        self.counters["forwarded"] += len(acked)
        await self._in_queue_thread(functools.partial(self.outbox.delete, acked))

    async def _in_queue_thread(self, call: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._queue_thread, call)

    async def _send_health(self, client: aiomqtt.Client) -> None:
        while self._pending_health:
            sensor, health = self._pending_health.popitem()
            try:
                await unless_lost(
                    client,
                    client.publish(
                        topics.device_health(self.config.household, sensor),
                        payload_json(health),
                        qos=1,
                        retain=True,
                    ),
                )
            except aiomqtt.MqttError:
                self._pending_health.setdefault(sensor, health)
                raise

    def heartbeat(self) -> GatewayHeartbeat:
        normaliser = self.normaliser
        counters: dict[str, int] = {
            f"rejected_{reason}": number
            for reason, number in normaliser.rejects.by_reason().items()
        }
        counters.update(self.counters)
        counters["dropped"] = self.outbox.dropped
        counters["unknown_devices"] = len(normaliser.unknown_devices)
        counters["home_connected"] = int(self.home_connected)
        skew = normaliser.last_clock_skew_s
        return GatewayHeartbeat(
            household=self.config.household,
            ts=self.clock.now(),
            seq=self._heartbeat_seq,
            queued=self.outbox.count,
            clock_skew_s=round(skew, 3) if skew is not None else None,
            counters=counters,
        )

    async def _heartbeat(self, client: aiomqtt.Client) -> None:
        beat = self.heartbeat()
        self._heartbeat_seq += 1
        topic = topics.gateway_heartbeat(self.config.household)
        await unless_lost(client, client.publish(topic, payload_json(beat), qos=1, retain=True))
