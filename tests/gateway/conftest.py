"""Gateway fixtures: a device map, a second (central) mosquitto, and helpers that talk MQTT."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt
import pytest

from dagritme import topics
from dagritme.models import Event, GatewayHeartbeat, Kind, Room, make_event_id
from dagritme.mqtt import BrokerSettings, make_client, reconnecting
from dagritme.servers import MosquittoServer
from gateway.config import DeviceMapping, GatewayConfig
from gateway.service import Gateway
from gateway.sources import Source

FIXTURES = Path(__file__).parent / "fixtures"
DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "gateway"
HOUSEHOLD = "hh-test"
POLL_S = 0.02

# Tasmota and Shelly Gen1 devices beside the Zigbee2MQTT ones.
FOREIGN_DEVICES = [
    DeviceMapping(
        friendly_name="hall_pir",
        source=Source.TASMOTA,
        sensor="M010",
        kind=Kind.MOTION,
        room=Room.HALL,
    ),
    DeviceMapping(
        friendly_name="back_door",
        source=Source.TASMOTA,
        channel=2,
        inverted=True,
        sensor="D010",
        kind=Kind.DOOR,
        room=Room.OTHER,
    ),
    DeviceMapping(
        friendly_name="shellydw2-A1B2C3",
        source=Source.SHELLY,
        sensor="D011",
        kind=Kind.DOOR,
        room=Room.ENTRANCE,
    ),
    DeviceMapping(
        friendly_name="shellymotionsensor-D4E5F6",
        source=Source.SHELLY,
        sensor="M011",
        kind=Kind.MOTION,
        room=Room.BATHROOM,
    ),
]

DEVICES = [
    DeviceMapping(
        friendly_name="bedroom_motion", sensor="M001", kind=Kind.MOTION, room=Room.BEDROOM
    ),
    DeviceMapping(
        friendly_name="kitchen/motion", sensor="M002", kind=Kind.MOTION, room=Room.KITCHEN
    ),
    DeviceMapping(friendly_name="front_door", sensor="D001", kind=Kind.DOOR, room=Room.ENTRANCE),
    DeviceMapping(friendly_name="fridge", sensor="C001", kind=Kind.CONTACT, room=Room.KITCHEN),
]


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def z2m_iso(ts: datetime) -> str:
    """Zigbee2MQTT's `last_seen: ISO_8601` format (milliseconds, Z)."""
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def motion_payload(on: bool, ts: datetime | None = None, battery: int = 97) -> bytes:
    data: dict[str, object] = {"occupancy": on, "battery": battery, "linkquality": 120}
    if ts is not None:
        data["last_seen"] = z2m_iso(ts)
    return json.dumps(data).encode()


@pytest.fixture
def central_server(tmp_path: Path) -> Iterator[MosquittoServer]:
    """The central broker: passwords, an ACL that confines the gateway to its household, and
    persistence (sessions and queued messages survive a restart, as in production)."""
    workdir = tmp_path / "central"
    workdir.mkdir()
    extra = f"persistence true\npersistence_location {workdir}/\n"
    # The deployment's gateway ACL: the MQTT user is the household id.
    acl = (DEPLOY / "mosquitto-central-acl.conf").read_text()
    acl += "\nuser consumer\ntopic read dagritme/v1/#\n"
    server = MosquittoServer(
        passwords={HOUSEHOLD: "gw-secret", "consumer": "c-secret"},
        acl=acl,
        extra_config=extra,
        workdir=workdir,
    )
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def central(central_server: MosquittoServer) -> BrokerSettings:
    return BrokerSettings(url=central_server.url, username=HOUSEHOLD, password="gw-secret")


@pytest.fixture
def consumer_settings(central_server: MosquittoServer) -> BrokerSettings:
    return BrokerSettings(url=central_server.url, username="consumer", password="c-secret")


@pytest.fixture
def gateway_config(
    broker: BrokerSettings, central: BrokerSettings, tmp_path: Path
) -> GatewayConfig:
    return GatewayConfig(
        household=HOUSEHOLD,
        home_broker=broker,
        central_broker=central,
        devices=DEVICES,
        queue_path=tmp_path / "queue.sqlite3",
        heartbeat_interval_s=0.5,
        reconnect_max_backoff_s=0.5,
    )


@dataclass
class Collected:
    """What a consumer saw on the central broker."""

    events: list[Event] = field(default_factory=list)
    other: dict[str, list[bytes]] = field(default_factory=dict)

    def by_id(self) -> dict[str, Event]:
        return {event.event_id: event for event in self.events}

    async def wait_for_events(self, count: int, within: float = 10.0) -> None:
        await poll_until(lambda: len(self.by_id()) >= count, within)

    async def wait_for(self, topic: str, within: float = 10.0) -> list[bytes]:
        await poll_until(lambda: bool(self.other.get(topic)), within)
        return self.other.get(topic, [])


async def poll_until(condition: Callable[[], bool], within: float = 10.0) -> bool:
    """Wait until `condition()` holds (True) or `within` seconds pass (False)."""
    for _ in range(max(1, int(within / POLL_S))):
        if condition():
            return True
        await asyncio.sleep(POLL_S)
    return condition()


@asynccontextmanager
async def consuming(settings: BrokerSettings, household: str = "+") -> AsyncIterator[Collected]:
    """Subscribe to everything of `household` on the central broker while the block runs."""
    collected = Collected()
    ready = asyncio.Event()

    async def consume() -> None:
        async with make_client(settings) as client:
            await client.subscribe(f"{topics.PREFIX}/{household}/#", qos=1)
            ready.set()
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                try:
                    channel = topics.parse(message.topic.value).channel
                except topics.TopicError:
                    channel = None  # e.g. summaries, not (yet) a channel of the contract
                if channel is topics.Channel.EVENTS:
                    collected.events.append(Event.model_validate_json(message.payload))
                else:
                    collected.other.setdefault(message.topic.value, []).append(message.payload)

    task = asyncio.create_task(consume())
    await asyncio.wait_for(ready.wait(), 10)
    try:
        yield collected
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


@asynccontextmanager
async def publisher(settings: BrokerSettings) -> AsyncIterator[aiomqtt.Client]:
    async with make_client(settings) as client:
        yield client


@asynccontextmanager
async def durable_consumer(settings: BrokerSettings, household: str) -> AsyncIterator[Collected]:
    """A consumer with a persistent session that reconnects: it misses nothing while the
    broker keeps its session (restart with persistence), so any loss is the gateway's."""
    collected = Collected()
    ready = asyncio.Event()
    durable = settings.model_copy(update={"client_id": "test-consumer", "keepalive_s": 5})

    async def session() -> None:
        async with make_client(durable, clean_session=False) as client:
            await client.subscribe(topics.events(household), qos=1)
            ready.set()
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                collected.events.append(Event.model_validate_json(message.payload))

    task = asyncio.create_task(reconnecting("test consumer", session, max_backoff_s=0.2))
    await asyncio.wait_for(ready.wait(), 10)
    try:
        yield collected
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


@dataclass
class StateChanges:
    """A stream of Z2M state changes with `last_seen`, and the event ids they must become."""

    household: str
    devices: list[DeviceMapping]
    start: datetime
    sent: int = 0
    expected: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        # Z2M's last_seen carries milliseconds; expected ids must use the same times.
        self.start = self.start.replace(microsecond=self.start.microsecond // 1000 * 1000)

    def next(self) -> tuple[str, bytes]:
        device = self.devices[self.sent % len(self.devices)]
        round_number = self.sent // len(self.devices)
        ts = self.start + timedelta(milliseconds=10 * self.sent)
        on = round_number % 2 == 0
        if device.kind is Kind.MOTION:
            data: dict[str, object] = {"occupancy": on}
            value = "on" if on else "off"
        elif device.kind is Kind.DOOR:
            data = {"contact": not on}
            value = "open" if on else "closed"
        else:
            data = {"contact": not on}
            value = "on" if on else "off"
        data.update({"battery": 90, "linkquality": 100, "last_seen": z2m_iso(ts)})
        self.expected.add(make_event_id(self.household, device.sensor, ts, value))
        self.sent += 1
        return f"zigbee2mqtt/{device.friendly_name}", json.dumps(data).encode()


def write_config(path: Path, config: GatewayConfig) -> Path:
    """The config as the TOML a gateway process reads."""
    lines = [
        f'household = "{config.household}"',
        f'queue_path = "{config.queue_path}"',
        f"heartbeat_interval_s = {config.heartbeat_interval_s}",
        f"reconnect_max_backoff_s = {config.reconnect_max_backoff_s}",
    ]
    for section, settings in (
        ("home_broker", config.home_broker),
        ("central_broker", config.central_broker),
    ):
        lines += ["", f"[{section}]", f'url = "{settings.url}"']
        if settings.username:
            lines.append(f'username = "{settings.username}"')
        if settings.password:
            lines.append(f'password = "{settings.password.get_secret_value()}"')
    for device in config.devices:
        lines += [
            "",
            "[[devices]]",
            f'friendly_name = "{device.friendly_name}"',
            f'sensor = "{device.sensor}"',
            f'kind = "{device.kind.value}"',
            f'room = "{device.room.value}"',
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


async def wait_until_subscribed(
    central: BrokerSettings, household: str, within: float = 15
) -> None:
    """Wait for a heartbeat that says the gateway listens to its home broker."""
    async with make_client(central) as client:
        await client.subscribe(topics.gateway_heartbeat(household), qos=1)
        async with asyncio.timeout(within):
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                beat = GatewayHeartbeat.model_validate_json(message.payload)
                if beat.counters.get("home_connected"):
                    return


@asynccontextmanager
async def running(gateway: Gateway) -> AsyncIterator[Gateway]:
    """Run `gateway` in a task while the block runs, once both brokers are connected."""
    task = asyncio.create_task(gateway.run())

    def connected() -> bool:
        if task.done():
            task.result()
        return gateway.home_connected and gateway.central_connected

    assert await poll_until(connected)
    try:
        yield gateway
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
