"""Tuning of the paho client under aiomqtt: in-flight window, TCP_NODELAY, fast publish.

aiomqtt exposes its paho client as `_client`; apart from the manual acknowledgements in
`dagritme.mqtt`, the helpers here are the only place that reaches into it.

paho leaves Nagle's algorithm on: small QoS 1 packets (PUBACKs, events) then wait for the
peer's delayed ACK, which caps a pipelined stream at a few thousand messages a second.

aiomqtt's `publish` awaits each PUBACK in a task of its own with its own timeout; at
thousands of messages a second that bookkeeping costs more than the MQTT work.
`publish_nowait` hands the message to paho and registers a completion object in aiomqtt's
table of pending publishes, which aiomqtt's own PUBACK handler then completes.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Protocol, cast

import aiomqtt
import paho.mqtt.client as mqtt


class PubackHandler(Protocol):
    """Called (as `set()`, like the asyncio.Event aiomqtt itself uses) on the PUBACK."""

    def set(self) -> None: ...


def allow_inflight(client: aiomqtt.Client, window: int) -> None:
    """Let `window` QoS 1 publishes be in flight at once (paho's default is 20).

    0 lifts paho's limit, for a caller that bounds the window itself: paho then also skips
    its scan of all in-flight messages on every PUBACK.
    """
    client._client.max_inflight_messages_set(window)
    client.pending_calls_threshold = (window or 10_000) + 10


def take_queued(client: aiomqtt.Client) -> list[aiomqtt.Message]:
    """The messages already received and waiting, without waiting for more.

    `async for message in client.messages` costs a task and two event-loop turns per
    message even when many are waiting; after it yields one, this takes the rest at once.
    """
    queue = client._queue
    return [queue.get_nowait() for _ in range(queue.qsize())]


def disable_nagle(client: aiomqtt.Client) -> None:
    """Call once connected: send small MQTT packets at once."""
    sock = client._client.socket()
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def disconnected(client: aiomqtt.Client) -> asyncio.Future[None]:
    """Done when the connection is gone.

    A publish awaiting its PUBACK is not woken by a lost connection (it waits for its
    timeout); the gateway races its publishes against this instead.
    """
    return client._disconnected


def publish_nowait(
    client: aiomqtt.Client, topic: str, payload: bytes, on_puback: PubackHandler
) -> None:
    """Publish with QoS 1 without waiting; `on_puback.set()` runs when the broker has it.

    Raises `aiomqtt.MqttCodeError` when paho refuses the message (no connection).
    """
    info = client._client.publish(topic, payload, qos=1)
    if info.rc != mqtt.MQTT_ERR_SUCCESS:
        raise aiomqtt.MqttCodeError(info.rc, "Could not publish message")
    # The PUBACK is read on this event loop, so it cannot arrive before this line.
    client._pending_publishes[info.mid] = cast(asyncio.Event, on_puback)
