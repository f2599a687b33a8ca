"""Tuning of the paho client under aiomqtt: manual acks, in-flight window, TCP_NODELAY.

aiomqtt acknowledges an incoming QoS 1 message as soon as it arrives, before the application
has done anything with it; a gateway killed right then would lose the message. paho-mqtt can
leave the PUBACK to the application (`manual_ack_set`), and aiomqtt exposes its paho client
as `_client`; the helpers here are the only place that reaches into it.

paho leaves Nagle's algorithm on: small QoS 1 packets (PUBACKs, events) then wait for the
peer's delayed ACK, which caps a pipelined stream at a few thousand messages a second.
"""

from __future__ import annotations

import asyncio
import socket

import aiomqtt


def enable_manual_ack(client: aiomqtt.Client) -> None:
    """Call before connecting: the broker keeps unacknowledged messages for redelivery."""
    client._client.manual_ack_set(True)


def acknowledge(client: aiomqtt.Client, message: aiomqtt.Message) -> None:
    """Send the PUBACK for `message` (nothing to send for QoS 0)."""
    if message.qos > 0:
        client._client.ack(message.mid, message.qos)


def allow_inflight(client: aiomqtt.Client, window: int) -> None:
    """Let `window` QoS 1 publishes be in flight at once (paho's default is 20)."""
    client._client.max_inflight_messages_set(window)
    client.pending_calls_threshold = window + 10


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
