"""The central side: the queue to the central broker with QoS 1, plus health and heartbeats.

Queued rows are published without waiting for each PUBACK, up to a window's size at a time
(`PublishWindow`); each PUBACK moves its row id to `acked`, and only those rows are deleted
from the queue. If the connection drops, rows still in flight stay queued and go again on
the next connection (same `event_id`, so consumers see each event once). Health and
heartbeats are retained state: only the latest per device is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiomqtt

from dagritme import topics
from dagritme.models import GatewayHeartbeat, payload_json
from dagritme.mqtt import make_client
from gateway.client_tuning import allow_inflight, disable_nagle, disconnected, publish_nowait
from gateway.config import GatewayConfig
from gateway.outbox import QueuedMessage
from gateway.queue_thread import Handoff, QueueThread

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Acknowledged rows are deleted in batches of this many (or when nothing is in flight).
DELETE_BATCH = 1_000
# Queued rows read from SQLite at once for publishing.
PEEK_BATCH = 500
# How long a graceful stop waits to say `offline` before the last will would anyway.
GOODBYE_TIMEOUT_S = 2.0


class _InFlight:
    """One published row waiting for its PUBACK."""

    __slots__ = ("row_id", "window")

    def __init__(self, window: PublishWindow, row_id: int) -> None:
        self.window = window
        self.row_id = row_id

    def set(self) -> None:
        self.window._acknowledged(self.row_id)


class PublishWindow:
    """Pipelined QoS 1 publishing on one connection; `wakeup` is set on each PUBACK batch
    and when the connection is lost."""

    def __init__(self, client: aiomqtt.Client, size: int, wakeup: asyncio.Event) -> None:
        self.size = size
        self.in_flight = 0
        self.acked: list[int] = []
        self._client = client
        self._wakeup = wakeup
        self._lost = disconnected(client)
        self._lost.add_done_callback(lambda _lost: wakeup.set())

    @property
    def room(self) -> int:
        return self.size - self.in_flight

    def publish(self, row: QueuedMessage) -> None:
        self.check_connected()
        publish_nowait(self._client, row.topic, row.payload, _InFlight(self, row.id))
        self.in_flight += 1

    def check_connected(self) -> None:
        """Raise `aiomqtt.MqttError` once the connection is gone."""
        if self._lost.done():
            raise aiomqtt.MqttError("connection lost while waiting for the broker")

    def take_acked(self) -> list[int]:
        acked, self.acked = self.acked, []
        return acked

    def _acknowledged(self, row_id: int) -> None:
        self.in_flight -= 1
        self.acked.append(row_id)
        self._wakeup.set()


async def unless_lost(client: aiomqtt.Client, operation: Awaitable[T]) -> T:
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


class UpstreamSession:
    """One connection to the central broker at a time; `run()` is one session.

    `next_heartbeat` makes the gateway's next heartbeat (the gateway owns its counters).
    """

    def __init__(
        self,
        config: GatewayConfig,
        queue: QueueThread,
        handoff: Handoff,
        *,
        counters: Counter[str],
        next_heartbeat: Callable[[], GatewayHeartbeat],
    ) -> None:
        self.config = config
        self.queue = queue
        self.handoff = handoff
        self.counters = counters
        self.next_heartbeat = next_heartbeat
        self.connected = False

    async def run(self) -> None:
        status = topics.gateway_status(self.config.household)
        will = aiomqtt.Will(status, b"offline", qos=1, retain=True)
        client = make_client(self.config.central_client(), will=will, clean_session=True)
        # The window bounds what is in flight; paho's own limit would only cost time.
        allow_inflight(client, 0)
        async with client:
            disable_nagle(client)
            await client.publish(status, b"online", qos=1, retain=True)
            self.connected = True
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
                self.connected = False

    async def _forward(self, client: aiomqtt.Client) -> None:
        loop = asyncio.get_running_loop()
        next_heartbeat = loop.time()
        wakeup = self.handoff.wakeup
        window = PublishWindow(client, self.config.upstream_window, wakeup)
        outbox = self.queue.outbox
        # Rows read from the queue but not yet published, oldest first.
        unsent: deque[QueuedMessage] = deque()
        after_id = 0
        # retained, but a central broker without persistence forgets it: once per session
        self.handoff.status_unsent = self.handoff.detector_status is not None
        try:
            while True:
                wakeup.clear()
                window.check_connected()
                if loop.time() >= next_heartbeat:
                    await self._heartbeat(client)
                    next_heartbeat = loop.time() + self.config.heartbeat_interval_s
                await self._send_health(client)
                await self._send_status(client)
                while window.room > 0:
                    if not unsent:
                        unsent.extend(
                            await self.queue.call(
                                functools.partial(
                                    outbox.peek, max(PEEK_BATCH, window.size), after_id
                                )
                            )
                        )
                        if not unsent:
                            break
                        after_id = unsent[-1].id
                    window.publish(unsent.popleft())
                if len(window.acked) >= DELETE_BATCH or (window.acked and not window.in_flight):
                    await self._forget(window)
                if self.handoff.pending_health or self.handoff.status_unsent or wakeup.is_set():
                    continue
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(0.0, next_heartbeat - loop.time())):
                        await wakeup.wait()
        finally:
            await self._forget(window)

    async def _forget(self, window: PublishWindow) -> None:
        """Delete acknowledged rows in one transaction (a crash before it only resends)."""
        acked = window.take_acked()
        self.counters["forwarded"] += len(acked)
        await self.queue.call(functools.partial(self.queue.outbox.delete, acked))

    async def _send_health(self, client: aiomqtt.Client) -> None:
        pending = self.handoff.pending_health
        while pending:
            sensor, health = pending.popitem()
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
                pending.setdefault(sensor, health)
                raise

    async def _send_status(self, client: aiomqtt.Client) -> None:
        handoff = self.handoff
        status = handoff.detector_status
        if status is None or not handoff.status_unsent:
            return
        handoff.status_unsent = False
        topic = topics.detector_status(self.config.household)
        try:
            publishing = client.publish(topic, payload_json(status), qos=1, retain=True)
            await unless_lost(client, publishing)
        except aiomqtt.MqttError:
            if handoff.detector_status is status:  # not replaced by a newer one meanwhile
                handoff.status_unsent = True
            raise
        self.counters["learning_statuses"] += 1

    async def _heartbeat(self, client: aiomqtt.Client) -> None:
        beat = self.next_heartbeat()
        topic = topics.gateway_heartbeat(self.config.household)
        await unless_lost(client, client.publish(topic, payload_json(beat), qos=1, retain=True))
