"""One way to connect to a broker: settings, client factory and the reconnect loop.

Application code never registers callbacks: it uses `aiomqtt.Client` as an async context
manager and iterates `client.messages`; `reconnecting` wraps a session function in a
documented retry loop with capped exponential backoff.

aiomqtt acknowledges an incoming QoS 1 message as soon as it arrives; a service killed
before it has stored the message would lose it. paho-mqtt can leave the PUBACK to the
application (`manual_ack_set`), and aiomqtt exposes its paho client as `_client`:
`make_client(manual_ack=True)` and `acknowledge` are the one place that reaches into it
for that (the gateway and the store consumer both acknowledge only after a durable write).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import aiomqtt
import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from pydantic import Field, SecretStr, field_validator

from dagritme.config import StrictModel

logger = logging.getLogger(__name__)


class BrokerSettings(StrictModel):
    """How to reach an MQTT broker."""

    url: str = Field(
        default="mqtt://127.0.0.1:1883", description="mqtt://host:port or mqtts://host:port"
    )
    username: str | None = Field(
        default=None, description="MQTT user name, if the broker wants one."
    )
    password: SecretStr | None = Field(default=None, description="MQTT password.")
    ca_file: Path | None = Field(
        default=None, description="CA bundle for mqtts://; system CAs if unset."
    )
    client_id: str | None = Field(
        default=None, description="Client id; a persistent session needs one."
    )
    keepalive_s: int = Field(default=30, ge=5, le=3600, description="MQTT keepalive in seconds.")

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError("must look like mqtt://host:port or mqtts://host:port")
        return url

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (8883 if parts.scheme == "mqtts" else 1883)

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == "mqtts"


def make_client(
    settings: BrokerSettings,
    *,
    will: aiomqtt.Will | None = None,
    clean_session: bool | None = None,
    max_queued_outgoing: int | None = None,
    protocol: aiomqtt.ProtocolVersion | None = None,
    properties: Properties | None = None,
    clean_start: bool | None = None,
    timeout: float | None = None,
    manual_ack: bool = False,
) -> aiomqtt.Client:
    """A client for `settings`; `manual_ack` leaves each PUBACK to `acknowledge`.

    `protocol`, `properties` and `clean_start` are for MQTT v5 (a persistent v5 session is
    `clean_start=False` with a session expiry in `properties`); `clean_session` for 3.1.1.
    """
    tls_context = None
    if settings.tls:
        tls_context = ssl.create_default_context(
            cafile=str(settings.ca_file) if settings.ca_file else None
        )
    client = aiomqtt.Client(
        hostname=settings.host,
        port=settings.port,
        username=settings.username,
        password=settings.password.get_secret_value() if settings.password else None,
        identifier=settings.client_id,
        keepalive=settings.keepalive_s,
        will=will,
        clean_session=clean_session,
        tls_context=tls_context,
        max_queued_outgoing_messages=max_queued_outgoing,
        protocol=protocol,
        properties=properties,
        clean_start=mqtt.MQTT_CLEAN_START_FIRST_ONLY if clean_start is None else clean_start,
        timeout=timeout,
    )
    if manual_ack:
        client._client.manual_ack_set(True)
    return client


def acknowledge(client: aiomqtt.Client, mid: int, qos: int) -> bool:
    """Send the PUBACK of a delivery on a `manual_ack` client.

    False when the connection it came on is gone: such a delivery is not acknowledged, and
    the broker sends it again on the next connection, with an identifier valid there.
    """
    if qos == 0:
        return True
    return bool(client._client.ack(mid, qos) == mqtt.MQTT_ERR_SUCCESS)


async def reconnecting(
    name: str,
    session: Callable[[], Awaitable[None]],
    *,
    initial_backoff_s: float = 0.5,
    max_backoff_s: float = 30.0,
) -> None:
    """Run `session` until it returns; on a lost connection wait and try again.

    The wait doubles from `initial_backoff_s` up to `max_backoff_s` and starts over once a
    session has run for longer than the current wait (the broker was reachable). Logs once
    when the connection is lost and once when it is back.
    """
    backoff = initial_backoff_s
    lost = False
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        try:
            if lost:
                logger.info("%s: connecting again", name)
            await session()
            return
        except aiomqtt.MqttError as err:
            if loop.time() - started > backoff:
                backoff = initial_backoff_s
            if not lost:
                logger.warning("%s: broker connection lost (%s); retrying with backoff", name, err)
                lost = True
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, max_backoff_s)
