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
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import aiomqtt

from dagritme import topics
from dagritme.clock import Clock
from dagritme.models import DeviceHealth, Event, GatewayHeartbeat, payload_json
from dagritme.mqtt import make_client, reconnecting
from gateway import z2m
from gateway.client_tuning import (
    acknowledge,
    allow_inflight,
    disable_nagle,
    disconnected,
    enable_manual_ack,
)
from gateway.config import GatewayConfig, Sharing
from gateway.edge import DailySummaries, LocalDetector, summaries_topic
from gateway.outbox import Outbox, OutgoingMessage
from gateway.z2m import Z2MNormaliser

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Home-broker messages committed to the queue in one transaction at most.
MAX_INGEST_BATCH = 2_000
# Pause before restarting a task that failed on something other than the broker connection.
FAILURE_PAUSE_S = 5.0
# Acknowledged rows are deleted in batches of this many (or when the queue runs dry).
DELETE_BATCH = 1_000
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
        self.normaliser.restore(self.outbox.load_states(), self.outbox.next_seq)
        async with client:
            disable_nagle(client)
            await client.subscribe(z2m.subscription(self.config.base_topic), qos=1)
            self.home_connected = True
            self.subscribed.set()
            logger.info("%s: connected to the home broker", self.config.household)
            try:
                await self._ingest(client)
            finally:
                self.home_connected = False

    async def _ingest(self, client: aiomqtt.Client) -> None:
        unacked: list[aiomqtt.Message] = []
        outgoing: list[OutgoingMessage] = []
        try:
            async for message in client.messages:
                payload = message.payload
                raw = payload if isinstance(payload, bytes | bytearray) else str(payload).encode()
                outgoing.extend(self._normalise(message.topic.value, bytes(raw), message.retain))
                unacked.append(message)
                if len(client.messages) == 0 or len(unacked) >= MAX_INGEST_BATCH:
                    # Committed first, acknowledged after: a crash in between means redelivery,
                    # which the persisted device states recognise as nothing new.
                    self._commit(outgoing)
                    for done in unacked:
                        acknowledge(client, done)
                    self.counters["home_messages"] += len(unacked)
                    unacked, outgoing = [], []
        finally:
            if unacked:
                # Connection lost or stopping: keep what was normalised; the broker redelivers
                # the unacknowledged messages and they add nothing twice.
                self._commit(outgoing)

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

    def _commit(self, outgoing: list[OutgoingMessage]) -> None:
        normaliser = self.normaliser
        self.outbox.commit(outgoing, normaliser.take_dirty_states(), normaliser.next_seq)
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
            if self._summaries is not None:
                outgoing += [
                    OutgoingMessage(summaries_topic(household), payload_json(summary))
                    for summary in self._summaries.due(now)
                ]
            if outgoing:
                self.outbox.commit(outgoing)
                self._wakeup.set()

    # -- central side ---------------------------------------------------------------------

    async def _upstream_session(self) -> None:
        status = topics.gateway_status(self.config.household)
        will = aiomqtt.Will(status, b"offline", qos=1, retain=True)
        client = make_client(self.config.central_client(), will=will, clean_session=True)
        allow_inflight(client, self.config.upstream_window)
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
        acked: list[int] = []
        after_id = 0
        try:
            while True:
                self._wakeup.clear()
                if loop.time() >= next_heartbeat:
                    await self._heartbeat(client)
                    next_heartbeat = loop.time() + self.config.heartbeat_interval_s
                await self._send_health(client)
                sent, after_id = await self._send_batch(client, after_id, acked)
                if len(acked) >= DELETE_BATCH or not sent:
                    self._forget(acked)
                if sent or self._pending_health:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._wakeup.wait(), timeout=max(0.0, next_heartbeat - loop.time())
                    )
        finally:
            self._forget(acked)

    def _forget(self, acked: list[int]) -> None:
        """Delete acknowledged rows in one transaction (a crash before it only resends)."""
        self.outbox.delete(acked)
        acked.clear()

    async def _send_batch(
        self, client: aiomqtt.Client, after_id: int, acked: list[int]
    ) -> tuple[int, int]:
        """Publish the next window of queued rows; returns (rows sent, last id sent)."""
        rows = self.outbox.peek(self.config.upstream_window, after_id)
        if not rows:
            return 0, after_id
        # If the connection drops, which of these got their PUBACK is unknown: all stay
        # queued and go again (same event_id, so consumers see each event once).
        results = await _unless_lost(
            client,
            asyncio.gather(
                *(client.publish(row.topic, row.payload, qos=1) for row in rows),
                return_exceptions=True,
            ),
        )
        done = [row.id for row, result in zip(rows, results, strict=True) if result is None]
        acked.extend(done)
        self.counters["forwarded"] += len(done)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return len(rows), rows[-1].id

    async def _send_health(self, client: aiomqtt.Client) -> None:
        while self._pending_health:
            sensor, health = self._pending_health.popitem()
            try:
                await _unless_lost(
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
        await _unless_lost(client, client.publish(topic, payload_json(beat), qos=1, retain=True))


async def _unless_lost(client: aiomqtt.Client, operation: Awaitable[T]) -> T:
    """Await `operation`, but give up as soon as the connection is lost.

    aiomqtt wakes a publish waiting for its PUBACK only at its timeout, not on a lost
    connection; without this, a broker restart would stall the gateway for that long.
    """
    running = asyncio.ensure_future(operation)
    watched: set[asyncio.Future[Any]] = {running, disconnected(client)}
    await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
    if not running.done():
        running.cancel()
        raise aiomqtt.MqttError("connection lost while waiting for the broker")
    return running.result()
