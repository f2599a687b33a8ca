"""A sliding window of QoS 1 messages in flight to the central broker.

Queued rows are published without waiting for each PUBACK, up to `size` at a time; each
PUBACK moves its row id to `acked`, and only those rows may be deleted from the queue. If
the connection drops, rows still in flight stay queued and go again on the next connection
(same `event_id`, so consumers see each event once).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

import aiomqtt

from gateway.client_tuning import disconnected, publish_nowait
from gateway.outbox import QueuedMessage

T = TypeVar("T")


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
