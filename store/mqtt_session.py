"""The consumer's broker connection: a persistent session with acknowledgements left to us.

aiomqtt acknowledges an incoming QoS 1 message as soon as it arrives; a consumer killed
before writing it would lose it. paho-mqtt can leave the PUBACK to the application
(`manual_ack_set`): `dagritme.mqtt.make_client(manual_ack=True)` sets that up and
`dagritme.mqtt.acknowledge` sends each PUBACK once the batch is written.

MQTT v5 is preferred because its CONNECT carries `Receive Maximum`: the broker sends at most
that many unacknowledged messages, whatever its own `max_inflight_messages` (the central
broker runs with 0, unlimited). That is the consumer's backpressure during a store outage:
it stops acknowledging, so the broker stops sending and keeps the rest in the session.
MQTT 3.1.1 (`clean_session=False`) remains for brokers without v5, such as amqtt.
"""

from __future__ import annotations

from enum import Enum

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from dagritme.mqtt import BrokerSettings, make_client

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
    if protocol is Protocol.V5:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.ReceiveMaximum = receive_maximum
        properties.SessionExpiryInterval = (
            SESSION_NEVER_EXPIRES if session_expiry_s is None else session_expiry_s
        )
        return make_client(
            settings,
            protocol=aiomqtt.ProtocolVersion.V5,
            properties=properties,
            clean_start=False,
            timeout=CONNECT_TIMEOUT_S,
            manual_ack=True,
        )
    return make_client(
        settings,
        protocol=aiomqtt.ProtocolVersion.V311,
        clean_session=False,
        timeout=CONNECT_TIMEOUT_S,
        manual_ack=True,
    )


def handshake_refused(err: aiomqtt.MqttError) -> bool:
    """Did the broker take the connection but not the v5 handshake (a 3.1.1-only broker)?

    Such brokers either close silently (the connect times out) or answer "unsupported
    protocol version" (1 in 3.1.1, 132 in v5). An unreachable broker is not this case.
    """
    if isinstance(err, aiomqtt.MqttCodeError):
        return getattr(err.rc, "value", err.rc) in (1, 132)
    return str(err) == "Operation timed out"
