"""The load generator: thousands of homes rendered in worker processes, ready for the wire.

Homes are split into shards; each shard lives in its own worker process for the whole run,
so a home's day plans stay cached between chunks of simulated time. A chunk comes back as
wire tuples (time, topic, payload bytes, retain) sorted by time and is merged across shards.
With `workers=0` everything runs in a thread of this process (small fleets, the demo).
"""

from __future__ import annotations

import asyncio
import heapq
import json
import time
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dagritme.mqtt import BrokerSettings
from firmware_sim.home import SimulatedHome
from firmware_sim.z2m import Z2MMessage

Wire = tuple[float, str, bytes, bool]


def z2m_topic(base_topic: str, suffix: str) -> str:
    """A Zigbee2MQTT topic: `<base_topic>/<friendly_name>[/availability]`."""
    return f"{base_topic}/{suffix}"


def encode(message: Z2MMessage, add_last_seen: bool) -> bytes:
    """The payload bytes as Z2M sends them; `last_seen` is the message time (ISO 8601, UTC)."""
    payload = message.payload
    if isinstance(payload, str):
        return payload.encode()
    if add_last_seen and "last_seen" not in payload:
        stamp = message.ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        payload = {**payload, "last_seen": stamp}
    return json.dumps(payload, separators=(",", ":")).encode()


@dataclass
class _Shard:
    homes: list[SimulatedHome]
    bases: list[str]
    add_last_seen: bool

    def render(self, lo: datetime, hi: datetime) -> list[Wire]:
        streams = []
        for home, base in zip(self.homes, self.bases, strict=True):
            streams.append(
                [
                    (
                        m.ts.timestamp(),
                        z2m_topic(base, m.topic_suffix),
                        encode(m, self.add_last_seen),
                        m.retain,
                    )
                    for m in home.messages(lo, hi)
                ]
            )
        return list(heapq.merge(*streams, key=_wire_time))

    def count(self, lo: datetime, hi: datetime) -> tuple[int, int]:
        """(messages, events) in [lo, hi), without encoding: the generation benchmark."""
        messages = events = 0
        for home in self.homes:
            per_device, changes = home.render(lo, hi)
            messages += sum(len(device) for device in per_device)
            events += len(changes)
        return messages, events


def _wire_time(wire: Wire) -> float:
    return wire[0]


# The shard a worker process keeps for the whole run (set by the pool initialiser).
_worker_shard: _Shard | None = None


def _init_worker(shard: _Shard) -> None:
    global _worker_shard
    _worker_shard = shard


def _render_in_worker(lo: datetime, hi: datetime) -> list[Wire]:
    assert _worker_shard is not None, "worker started without its shard"
    return _worker_shard.render(lo, hi)


def _count_in_worker(lo: datetime, hi: datetime) -> tuple[int, int]:
    assert _worker_shard is not None, "worker started without its shard"
    return _worker_shard.count(lo, hi)


class FleetRenderer:
    """Renders chunks of simulated time for many homes, in `workers` processes (0: a thread)."""

    def __init__(
        self,
        homes: Sequence[SimulatedHome],
        bases: Sequence[str],
        *,
        workers: int = 0,
        add_last_seen: bool = True,
    ) -> None:
        self.workers = workers
        self._local: _Shard | None = None
        self._executors: list[Executor] = []
        if workers <= 0:
            self._local = _Shard(list(homes), list(bases), add_last_seen)
            self._executors.append(ThreadPoolExecutor(1, thread_name_prefix="sim-render"))
            return
        for index in range(workers):
            shard = _Shard(list(homes[index::workers]), list(bases[index::workers]), add_last_seen)
            self._executors.append(
                ProcessPoolExecutor(1, initializer=_init_worker, initargs=(shard,))
            )

    async def render(self, lo: datetime, hi: datetime) -> list[Wire]:
        loop = asyncio.get_running_loop()
        if self._local is not None:
            return await loop.run_in_executor(self._executors[0], self._local.render, lo, hi)
        parts = await asyncio.gather(
            *(loop.run_in_executor(ex, _render_in_worker, lo, hi) for ex in self._executors)
        )
        return list(heapq.merge(*parts, key=_wire_time))

    async def count(self, lo: datetime, hi: datetime) -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        if self._local is not None:
            return await loop.run_in_executor(self._executors[0], self._local.count, lo, hi)
        parts = await asyncio.gather(
            *(loop.run_in_executor(ex, _count_in_worker, lo, hi) for ex in self._executors)
        )
        return sum(p[0] for p in parts), sum(p[1] for p in parts)

    def close(self) -> None:
        for executor in self._executors:
            executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> FleetRenderer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class GenerationFigures:
    households: int
    days: float
    workers: int
    messages: int
    events: int
    seconds: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "households": self.households,
            "days": self.days,
            "workers": self.workers,
            "messages": self.messages,
            "events": self.events,
            "seconds": round(self.seconds, 2),
            "messages_per_s": round(self.messages / self.seconds) if self.seconds else 0,
            "household_days_per_s": round(self.households * self.days / self.seconds, 1)
            if self.seconds
            else 0,
        }


async def measure_generation(
    homes: Sequence[SimulatedHome], start: datetime, days: float, workers: int
) -> GenerationFigures:
    """Time the generation of every message and event of `homes` over `days` from `start`."""
    began = time.perf_counter()
    with FleetRenderer(homes, ["z2m"] * len(homes), workers=workers) as renderer:
        messages, events = await renderer.count(start.astimezone(UTC), start + timedelta(days=days))
    return GenerationFigures(
        len(homes), days, workers, messages, events, time.perf_counter() - began
    )


class SharedAcceleratedClock:
    """An accelerated clock any process can rebuild: simulated time from the epoch wall time.

    `AcceleratedClock` remembers when it was created; worker processes need the same
    origin, so this one is defined by (simulated origin, wall origin as epoch seconds, speed).
    """

    def __init__(self, origin: datetime, wall_origin: float, speed: float) -> None:
        if origin.tzinfo is None:
            raise ValueError("SharedAcceleratedClock needs a timezone-aware origin")
        self.origin = origin.astimezone(UTC)
        self.wall_origin = wall_origin
        self.speed = speed

    def now(self) -> datetime:
        return self.origin + timedelta(seconds=(time.time() - self.wall_origin) * self.speed)


def _publish_shard(
    broker: BrokerSettings,
    homes: list[SimulatedHome],
    base_topic: str,
    clock: SharedAcceleratedClock,
    until: datetime | None,
    add_last_seen: bool,
    chunk_s: float,
) -> tuple[int, float]:
    # Runs in a worker process with its own event loop and its own broker connection.
    from firmware_sim.publisher import publish_homes

    stats = asyncio.run(
        publish_homes(
            broker,
            homes,
            clock,
            lambda household: base_topic.replace("{household}", household),
            until,
            add_last_seen=add_last_seen,
            chunk=timedelta(seconds=chunk_s),
            start=clock.origin,
        )
    )
    return stats.published, stats.max_lag_s


@dataclass(frozen=True, slots=True)
class FleetPublishFigures:
    households: int
    processes: int
    published: int
    seconds: float
    max_lag_s: float


async def publish_fleet(
    broker: BrokerSettings,
    homes: Sequence[SimulatedHome],
    start: datetime,
    speed: float,
    until: datetime | None,
    *,
    base_topic: str = "z2m-{household}",
    processes: int = 2,
    add_last_seen: bool = True,
    chunk: timedelta = timedelta(hours=1),
) -> FleetPublishFigures:
    """Many homes publishing at once: `processes` workers, each with its own connection.

    Every worker plays its share of the homes on the same accelerated clock.
    """
    if broker.client_id is not None:
        # Two connections with one client id would throw each other off the broker.
        raise ValueError("publish_fleet opens several connections: leave client_id unset")
    clock = SharedAcceleratedClock(start, time.time(), speed)
    loop = asyncio.get_running_loop()
    began = time.perf_counter()
    with ProcessPoolExecutor(processes) as pool:
        results = await asyncio.gather(
            *(
                loop.run_in_executor(
                    pool,
                    _publish_shard,
                    broker,
                    list(homes[index::processes]),
                    base_topic,
                    clock,
                    until,
                    add_last_seen,
                    chunk.total_seconds(),
                )
                for index in range(processes)
            )
        )
    return FleetPublishFigures(
        households=len(homes),
        processes=processes,
        published=sum(r[0] for r in results),
        seconds=time.perf_counter() - began,
        max_lag_s=max((r[1] for r in results), default=0.0),
    )
