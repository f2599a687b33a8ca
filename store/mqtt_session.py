"""The consumer's broker connection: a persistent session with acknowledgements left to us.

aiomqtt acknowledges an incoming QoS 1 message as soon as it arrives; a consumer killed
before writing it would lose it. paho-mqtt can leave the PUBACK to the application
(`manual_ack_set`), and aiomqtt exposes its paho client as `_client`: the helpers here are
the only place in this package that reaches into it. (The gateway has the same helpers;
they could move into `dagritme.mqtt` beside `make_client`.)

MQTT v5 is preferred because its CONNECT carries `Receive Maximum`: the broker sends at most
that many unacknowledged messages, whatever its own `max_inflight_messages` (the central
broker runs with 0, unlimited). That is the consumer's backpressure during a store outage:
it stops acknowledging, so the broker stops sending and keeps the rest in the session.
MQTT 3.1.1 (`clean_session=False`) remains for brokers without v5, such as amqtt.
"""

from __future__ import annotations

import ssl
from enum import Enum

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from dagritme.mqtt import BrokerSettings

# v5: a session expiry of 0xFFFFFFFF never expires, as a 3.1.1 persistent session.
SESSION_NEVER_EXPIRES = 0xFFFFFFFF
CONNECT_TIMEOUT_S = 5.0


class Protocol(Enum):
    V5 = "5"
    V311 = "3.1.1"


def consumer_client(
    settings: BrokerSettings,
    protocol: Protocol,
    *,
    receive_maximum: int,
    session_expiry_s: int | None,
) -> aiomqtt.Client:
    """A client that resumes its session and leaves acknowledgements to `acknowledge`."""
    tls_context = None
    if settings.tls:
        tls_context = ssl.create_default_context(
            cafile=str(settings.ca_file) if settings.ca_file else None
        )
    common = {
        "hostname": settings.host,
        "port": settings.port,
        "username": settings.username,
        "password": settings.password.get_secret_value() if settings.password else None,
        "identifier": settings.client_id,
        "keepalive": settings.keepalive_s,
        "tls_context": tls_context,
        "timeout": CONNECT_TIMEOUT_S,
    }
    if protocol is Protocol.V5:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.ReceiveMaximum = receive_maximum
        properties.SessionExpiryInterval = (
            SESSION_NEVER_EXPIRES if session_expiry_s is None else session_expiry_s
        )
        client = aiomqtt.Client(
            **common,  # type: ignore[arg-type]
            protocol=aiomqtt.ProtocolVersion.V5,
            properties=properties,
            clean_start=False,
        )
    else:
        client = aiomqtt.Client(
            **common,  # type: ignore[arg-type]
            protocol=aiomqtt.ProtocolVersion.V311,
            clean_session=False,
        )
    client._client.manual_ack_set(True)
    return client


def handshake_refused(err: aiomqtt.MqttError) -> bool:
    """Did the broker take the connection but not the v5 handshake (a 3.1.1-only broker)?

    Such brokers either close silently (the connect times out) or answer "unsupported
    protocol version" (1 in 3.1.1, 132 in v5). An unreachable broker is not this case.
    """
    if isinstance(err, aiomqtt.MqttCodeError):
        return getattr(err.rc, "value", err.rc) in (1, 132)
    return str(err) == "Operation timed out"


def acknowledge(client: aiomqtt.Client, mid: int, qos: int) -> bool:
    """Send the PUBACK of a delivery; False when the connection it came on is gone.

    A delivery of a closed connection is not acknowledged: the broker sends it again on the
    next connection, with an identifier valid there.
    """
    if qos == 0:
        return True
    return bool(client._client.ack(mid, qos) == 0)
