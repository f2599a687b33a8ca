"""The demo's broker: a real mosquitto when installed, else amqtt running in-process.

Production uses mosquitto with authentication (deploy/mosquitto/); this module exists so
`make demo` works on a machine with nothing but Python.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import AsyncIterator

from dagritme.mqtt import BrokerSettings
from dagritme.servers import MosquittoServer, find_mosquitto, free_port

logger = logging.getLogger(__name__)


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@contextlib.asynccontextmanager
async def embedded_broker(
    preferred_port: int = 1883, kind: str = "auto"
) -> AsyncIterator[BrokerSettings]:
    """Run a loopback-only broker for the lifetime of the context.

    `kind` is "mosquitto", "amqtt" or "auto" (mosquitto when installed).
    """
    port = preferred_port if _port_is_free(preferred_port) else free_port()
    if kind == "mosquitto" or (kind == "auto" and find_mosquitto() is not None):
        server = MosquittoServer(port=port).start()
        logger.info("embedded broker: mosquitto on 127.0.0.1:%d", port)
        try:
            yield BrokerSettings(url=server.url)
        finally:
            server.close()
        return

    from amqtt.broker import Broker  # only needed where mosquitto is missing

    anonymous = "amqtt.plugins.authentication.AnonymousAuthPlugin"
    broker = Broker(
        {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
            "plugins": {anonymous: {"allow_anonymous": True}},
        }
    )
    await broker.start()
    logger.info("embedded broker: amqtt (in-process) on 127.0.0.1:%d", port)
    try:
        yield BrokerSettings(url=f"mqtt://127.0.0.1:{port}")
    finally:
        await broker.shutdown()
