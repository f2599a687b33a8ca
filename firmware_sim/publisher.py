"""Publish simulated homes to a real MQTT broker when an injected clock reaches each message.

The clock decides the pace: an `AcceleratedClock` at speed 60 plays an hour a minute, a
`WallClock` plays in real time. Messages are generated in chunks of simulated time (a home
looks the same whichever chunking is used), merged across homes by timestamp and published
as Zigbee2MQTT would, on `<base_topic>/<friendly_name>`; big fleets render in worker
processes (`firmware_sim.load`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiomqtt

from dagritme.clock import Clock
from dagritme.mqtt import BrokerSettings, make_client
from firmware_sim.home import SimulatedHome
from firmware_sim.load import FleetRenderer, Wire, encode, z2m_topic

logger = logging.getLogger(__name__)

# Never sleep longer than this before looking at the clock again (it may be moved by hand).
MAX_SLEEP_S = 0.25


class PublishError(RuntimeError):
    """The broker could not be reached or refused the simulator."""


@dataclass
class PublishStats:
    published: int = 0
    homes: int = 0
    started: datetime | None = None
    reached: datetime | None = None
    max_lag_s: float = 0.0  # simulated seconds a message went out after its time


async def _wait_until(clock: Clock, when: float) -> None:
    speed = float(getattr(clock, "speed", 1.0))
    while True:
        ahead = when - clock.now().timestamp()
        if ahead <= 0:
            return
        await asyncio.sleep(min(ahead / speed, MAX_SLEEP_S))


def _windows(
    start: datetime, until: datetime | None, chunk: timedelta
) -> Iterator[tuple[datetime, datetime]]:
    lo = start
    while until is None or lo < until:
        hi = lo + chunk if until is None else min(lo + chunk, until)
        yield lo, hi
        lo = hi


async def publish_homes(
    broker: BrokerSettings,
    homes: list[SimulatedHome],
    clock: Clock,
    base_topic_for: Callable[[str], str],
    until: datetime | None,
    *,
    add_last_seen: bool = True,
    qos: int = 0,
    chunk: timedelta = timedelta(hours=1),
    workers: int = 0,
    start: datetime | None = None,
    stats: PublishStats | None = None,
) -> PublishStats:
    """Publish each home's messages when `clock` reaches their time, until `until` (or forever).

    Starts with what Z2M publishes on start-up (retained availability), then plays the homes
    from `start` (default: the clock's current time; messages already due go out at once).
    `last_seen` (the message time, ISO 8601 UTC) is added so a gateway can stamp exact
    times even when publishing runs late. The next chunk of simulated time is rendered (in
    `workers` processes, or a thread) while this one is sent.
    """
    stats = stats or PublishStats()
    start = start or clock.now()
    stats.started, stats.homes = start, len(homes)
    bases = [base_topic_for(home.household) for home in homes]
    windows = _windows(start, until, chunk)
    pending: asyncio.Future[list[Wire]] | None = None
    with FleetRenderer(homes, bases, workers=workers, add_last_seen=add_last_seen) as renderer:
        try:
            async with make_client(broker) as client:
                for home, base in zip(homes, bases, strict=True):
                    for message in home.startup_messages(start):
                        topic = z2m_topic(base, message.topic_suffix)
                        await client.publish(topic, encode(message, False), qos=qos, retain=True)
                first = next(windows, None)
                if first is not None:
                    pending = asyncio.ensure_future(renderer.render(*first))
                while pending is not None:
                    batch = await pending
                    following = next(windows, None)
                    pending = (
                        asyncio.ensure_future(renderer.render(*following)) if following else None
                    )
                    await _send(client, batch, clock, qos, stats)
        except aiomqtt.MqttError as err:
            raise PublishError(f"publishing to {broker.host}:{broker.port} failed: {err}") from err
        finally:
            if pending is not None and not pending.done():
                pending.cancel()
    logger.info("published %d messages of %d homes", stats.published, len(homes))
    return stats


async def _send(
    client: aiomqtt.Client, batch: list[Wire], clock: Clock, qos: int, stats: PublishStats
) -> None:
    for ts, topic, payload, retain in batch:
        now = clock.now().timestamp()
        if ts > now:
            await _wait_until(clock, ts)
        else:
            stats.max_lag_s = max(stats.max_lag_s, now - ts)
        await client.publish(topic, payload, qos=qos, retain=retain)
        stats.published += 1
    if batch:
        stats.reached = datetime.fromtimestamp(batch[-1][0], UTC)
