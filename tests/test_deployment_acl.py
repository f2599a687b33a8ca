"""The central broker's ACL (deploy/mosquitto/acl) on a real mosquitto: who may publish and
read the detector's retained learning status."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from dagritme import topics
from dagritme.mqtt import BrokerSettings, make_client
from dagritme.servers import MosquittoServer, find_mosquitto

REPO = Path(__file__).resolve().parent.parent
PASSWORDS = {"detector": "d-secret", "dashboard": "w-secret", "hh-1": "g1", "hh-2": "g2"}

pytestmark = pytest.mark.integration


@pytest.fixture
def central() -> Iterator[MosquittoServer]:
    if find_mosquitto() is None:
        pytest.fail("mosquitto is not installed")
    server = MosquittoServer(
        passwords=PASSWORDS, acl=(REPO / "deploy" / "mosquitto" / "acl").read_text()
    ).start()
    try:
        yield server
    finally:
        server.close()


def as_user(server: MosquittoServer, user: str) -> BrokerSettings:
    return BrokerSettings.model_validate(
        {"url": server.url, "username": user, "password": PASSWORDS[user]}
    )


async def test_detector_and_edge_gateway_publish_status_and_dashboard_reads_it(
    central: MosquittoServer,
) -> None:
    subscription = topics.subscription(topics.Channel.DETECTOR_STATUS)
    async with make_client(as_user(central, "dashboard")) as dashboard:
        await dashboard.subscribe(subscription, qos=1)
        denied = [
            ("hh-1", topics.detector_status("hh-2")),  # a gateway speaking for another home
            ("dashboard", topics.detector_status("hh-1")),  # the dashboard only reads it
        ]
        allowed = [
            ("detector", topics.detector_status("hh-2")),
            ("hh-1", topics.detector_status("hh-1")),  # edge mode: the home's own detector
        ]
        # denied first: mosquitto acknowledges and drops them, so had they passed they would
        # have reached the subscriber before the allowed ones
        for user, topic in denied + allowed:
            async with make_client(as_user(central, user)) as client:
                await client.publish(topic, f"from {user}".encode(), qos=1)
        received: list[tuple[str, bytes]] = []
        async with asyncio.timeout(10):
            async for message in dashboard.messages:
                assert isinstance(message.payload, bytes)
                received.append((str(message.topic), message.payload))
                if len(received) == len(allowed):
                    break
    assert received == [(topic, f"from {user}".encode()) for user, topic in allowed]
