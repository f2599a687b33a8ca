"""Composition root of a whole Dagritme installation in one asyncio loop.

Builds every part from its own config and passes the shared things in (one clock, one
broker, one event store): simulated homes -> Zigbee2MQTT -> a gateway per home -> broker
-> detector -> alerts -> dashboard, with the store consumer persisting events beside it.
The demo, the end-to-end test and the system benchmark all run this same wiring; in a
deployment each part runs as its own process from its own config instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import SecretStr

from dagritme.clock import AcceleratedClock
from dagritme.mqtt import BrokerSettings
from dashboard.accounts import find_user
from dashboard.config import DashboardConfig, HttpSettings, NotificationSettings
from dashboard.db import Database
from dashboard.notify import add_contact
from dashboard.seed import seed_demo
from dashboard.service import DashboardService
from detector.config import DetectorConfig
from detector.core import Detector
from detector.service import DetectorService
from firmware_sim.home import SimulatedHome
from firmware_sim.personas import persona
from firmware_sim.publisher import publish_homes
from firmware_sim.scenarios import parse_scenario, resolve
from gateway.config import DeviceMapping, GatewayConfig
from gateway.service import Gateway
from store.base import EventStore, batched
from store.consumer import EventConsumer
from store.sqlite import SqliteEventStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HomeSpec:
    """One simulated household of the installation."""

    household: str
    display_name: str
    persona: str
    scenarios: tuple[str, ...] = ()  # NAME@DAY[THH:MM], day 1 is the first live day


@dataclass(frozen=True, slots=True)
class SystemSpec:
    homes: tuple[HomeSpec, ...]
    start: datetime  # aware; data time at which the live part begins
    speed: float  # simulated seconds per real second
    data_dir: Path
    http_port: int = 8000
    timezone: str = "Europe/Amsterdam"
    warmup_days: int = 14
    seed: int = 7
    tick_interval_s: float = 1.0
    secret_key: str = "development-only-secret-key-0123456789"
    # (user name, Apprise URL): notification contacts added to every household
    contacts: tuple[tuple[str, str], ...] = ()


@dataclass
class RunningSystem:
    """Handles on the parts, for the caller that wants to look inside (tests, demo banner)."""

    spec: SystemSpec
    clock: AcceleratedClock
    broker: BrokerSettings
    homes: list[SimulatedHome]
    detector: DetectorService
    dashboard: DashboardService
    gateways: list[Gateway]
    consumer: EventConsumer
    event_store: EventStore
    logins: dict[str, str] = field(default_factory=dict)

    @property
    def dashboard_url(self) -> str:
        return f"http://127.0.0.1:{self.dashboard.port}"


def build_homes(spec: SystemSpec) -> list[SimulatedHome]:
    tz = ZoneInfo(spec.timezone)
    first_live_day = spec.start.astimezone(tz).date()
    homes: list[SimulatedHome] = []
    for index, home_spec in enumerate(spec.homes):
        home = SimulatedHome(
            household=home_spec.household,
            persona=persona(home_spec.persona),
            seed=spec.seed * 1000 + index,
            tz=tz,
            include_last_seen=True,
        )
        for text in home_spec.scenarios:
            home.injections.append(
                resolve(parse_scenario(text), home.household, first_live_day, 30, tz, None)
            )
        homes.append(home)
    return homes


def warm_up(
    detector: Detector,
    store: EventStore,
    homes: Sequence[SimulatedHome],
    start: datetime,
    days: int,
) -> int:
    """Feed `days` of simulated history through the same core and store, in time order."""
    begin = start - timedelta(days=days)
    events = sorted(
        (event for home in homes for event in home.events(begin, start)), key=lambda e: e.ts
    )
    for batch in batched(events, 5000):
        store.write(batch)
    next_tick = begin + timedelta(minutes=1)
    for event in events:
        while next_tick <= event.ts:
            detector.tick(next_tick)
            next_tick += timedelta(minutes=1)
        detector.observe(event)
    while next_tick <= start:
        detector.tick(next_tick)
        next_tick += timedelta(minutes=1)
    return len(events)


def gateway_config(
    home: SimulatedHome, broker: BrokerSettings, data_dir: Path, speed: float
) -> GatewayConfig:
    return GatewayConfig(
        household=home.household,
        home_broker=broker,
        central_broker=broker.model_copy(update={"client_id": f"gw-{home.household}"}),
        base_topic=base_topic(home.household),
        devices=[
            DeviceMapping(friendly_name=d.friendly_name, sensor=d.sensor, kind=d.kind, room=d.room)
            for d in home.devices
        ],
        queue_path=data_dir / f"gateway-{home.household}.sqlite",
        timezone=str(home.tz),
        # Z2M's last_seen is trusted within 5 real minutes of the gateway clock; on an
        # accelerated clock those minutes cover `speed` times as much data time.
        max_clock_skew_s=300.0 * max(1.0, speed),
    )


def base_topic(household: str) -> str:
    """In one shared demo broker every home gets its own Zigbee2MQTT base topic."""
    return f"z2m-{household}"


def build(spec: SystemSpec, broker: BrokerSettings) -> RunningSystem:
    spec.data_dir.mkdir(parents=True, exist_ok=True)
    homes = build_homes(spec)
    clock = AcceleratedClock(spec.start, spec.speed)
    event_store = SqliteEventStore(spec.data_dir / "events.sqlite")
    detector_config = DetectorConfig(
        broker=broker.model_copy(update={"client_id": "dagritme-detector"}),
        default_timezone=spec.timezone,
        tick_interval_s=spec.tick_interval_s,
        state_dir=spec.data_dir / "detector-state",
        # ten real minutes of skew, as many data minutes as the clock runs faster
        max_clock_ahead_s=600.0 * max(1.0, spec.speed),
    )
    core = Detector(detector_config)
    warmed = warm_up(core, event_store, homes, spec.start, spec.warmup_days)
    logger.info("warmed up on %d events of %d simulated days", warmed, spec.warmup_days)
    dashboard_config = DashboardConfig(
        broker=broker.model_copy(update={"client_id": "dagritme-dashboard"}),
        database=spec.data_dir / "dashboard.sqlite",
        http=HttpSettings(host="127.0.0.1", port=spec.http_port),
        secret_key=SecretStr(spec.secret_key),
        environment="development",
        cookie_secure=False,
        notifications=NotificationSettings(base_url=f"http://127.0.0.1:{spec.http_port}"),
    )
    db = Database(dashboard_config.database)
    logins = seed_demo(
        db, [(h.household, h.display_name, spec.timezone) for h in spec.homes], clock
    )
    for position, (username, apprise_url) in enumerate(spec.contacts):
        user = find_user(db, username)
        if user is None:
            raise ValueError(f"contact {username!r} is not a seeded account")
        for home in spec.homes:
            add_contact(db, home.household, user.id, apprise_url, clock.now(), position)
    return RunningSystem(
        spec=spec,
        clock=clock,
        broker=broker,
        homes=homes,
        detector=DetectorService(detector_config, clock, detector=core),
        dashboard=DashboardService(dashboard_config, event_store, clock, db=db),
        gateways=[
            Gateway(gateway_config(home, broker, spec.data_dir, spec.speed), clock)
            for home in homes
        ],
        consumer=EventConsumer(
            broker.model_copy(update={"client_id": "dagritme-store"}), event_store, clock=clock
        ),
        event_store=event_store,
        logins=logins,
    )


async def run(system: RunningSystem, until: datetime | None = None) -> None:
    """Run every part until cancelled; the simulator stops publishing at `until` (data time)."""
    async with asyncio.TaskGroup() as group:
        group.create_task(system.dashboard.run())
        group.create_task(system.detector.run())
        group.create_task(system.consumer.run())
        for gateway in system.gateways:
            group.create_task(gateway.run())
        await asyncio.wait_for(system.dashboard.wait_started(), timeout=30)
        await asyncio.wait_for(system.consumer.subscribed.wait(), timeout=30)
        await asyncio.wait_for(system.detector.connected.wait(), timeout=30)
        for gateway in system.gateways:
            await asyncio.wait_for(gateway.subscribed.wait(), timeout=30)
        # The simulated world starts moving now, not when the parts were built.
        system.clock.restart(system.spec.start)
        group.create_task(
            publish_homes(system.broker, system.homes, system.clock, base_topic, until)
        )


def close(system: RunningSystem) -> None:
    system.event_store.close()
