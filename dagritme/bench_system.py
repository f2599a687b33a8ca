"""`dagritme bench system`: the whole installation, measured end to end over real mosquitto.

Phase 1, carried load: N simulated homes publish a day of Zigbee2MQTT traffic in ten
seconds through their gateways, all parts in this one process and event loop; a counting
subscriber on the central events topic tallies every `event_id`, so `lost` (state changes
the simulator made that never arrived) and `duplicates` (an `event_id` seen twice) are
counted where a consumer sees them.

Phase 2, the night-door path: several homes at 03:00 (real-time clock), a front door opens
in each, and we time door message -> alert stored in the dashboard database
(`night_door_alert_*_ms`) and -> notification received by a local webhook
(`night_door_notify_*_ms`; target <= 2 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dagritme import system, topics
from dagritme.models import AlertType, Kind, Room
from dagritme.mqtt import BrokerSettings, make_client
from dagritme.servers import MosquittoServer, free_port
from dashboard.alert_store import list_alerts
from store.sqlite import SqliteEventStore

TZ = "Europe/Amsterdam"


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _count_events(
    broker: BrokerSettings, seen: Counter[str], ready: asyncio.Event, marks: list[float]
) -> None:
    """Count every event_id on the central events topic; marks = [first, last] arrival."""
    async with make_client(broker.model_copy(update={"client_id": "bench-counter"})) as client:
        await client.subscribe(topics.subscription(topics.Channel.EVENTS), qos=1)
        ready.set()
        async for message in client.messages:
            payload = message.payload
            if isinstance(payload, bytes):
                seen[json.loads(payload)["event_id"]] += 1
                marks[1] = time.perf_counter()
                if not marks[0]:
                    marks[0] = marks[1]


async def _throughput(broker: BrokerSettings, households: int, workdir: Path) -> dict[str, Any]:
    tz = ZoneInfo(TZ)
    start = datetime(2026, 11, 2, 0, 0, tzinfo=tz)
    day = timedelta(days=1)
    spec = system.SystemSpec(
        homes=tuple(
            system.HomeSpec(f"bench-{i:04d}", f"Bench {i}", ("typical", "dense", "sparse")[i % 3])
            for i in range(households)
        ),
        start=start,
        # A day in ten seconds. Every part shares one event loop here (in a deployment each
        # gateway is its own Pi), so this measures an offered load carried without loss,
        # not the ceiling of any one part: see `bench gateway` and `bench detector` for those.
        speed=86_400 / 10,
        data_dir=workdir,
        http_port=free_port(),
        timezone=TZ,
        warmup_days=0,
    )
    running = system.build(spec, broker)
    # A gateway that has never heard a device reports its state at the first message; the
    # simulator knows the state before the window. Count losses from the first hour on.
    settled = start + timedelta(hours=1)
    expected = {e.event_id for home in running.homes for e in home.events(settled, start + day)}
    seen: Counter[str] = Counter()
    ready = asyncio.Event()
    marks = [0.0, 0.0]
    counter = asyncio.create_task(_count_events(broker, seen, ready, marks))
    await ready.wait()
    task = asyncio.create_task(system.run(running, until=start + day))
    began = time.perf_counter()
    deadline = began + 120
    while time.perf_counter() < deadline:
        await asyncio.sleep(0.5)
        quiet_for = time.perf_counter() - max(marks[1], began)
        published_all = running.clock.now() > start + day
        if expected <= seen.keys() or (marks[1] and quiet_for > 5 and published_all):
            break
    elapsed = marks[1] - marks[0]
    store = running.event_store
    assert isinstance(store, SqliteEventStore)
    store_deadline = time.perf_counter() + 10
    while store.count() < len(seen) and time.perf_counter() < store_deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.1)  # the store has no "written" event to wait on
    stored = store.count()
    task.cancel()
    counter.cancel()
    await asyncio.gather(task, counter, return_exceptions=True)
    system.close(running)
    received = sum(seen.values())
    return {
        "households": households,
        "events_expected": len(expected),
        "events_received": received,
        "events_per_s": round(len(seen) / elapsed, 1) if elapsed else 0.0,
        "lost": len(expected - seen.keys()),
        "received_outside_window": len(seen.keys() - expected),
        "duplicates": received - len(seen),
        "events_stored": stored,
    }


class _Hooks:
    """A local webhook receiver: notes when each household's notification arrives."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length", 0))
                self.rfile.read(length)
                hooks.arrivals.setdefault(self.path.strip("/"), time.perf_counter())
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Hooks:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()


async def _night_door(broker: BrokerSettings, homes: int, workdir: Path) -> dict[str, Any]:
    tz = ZoneInfo(TZ)
    alert_ms: list[float] = []
    notify_ms: list[float] = []
    with _Hooks() as hooks:
        spec = system.SystemSpec(
            homes=tuple(
                system.HomeSpec(f"door-{i:02d}", f"Door {i}", "typical") for i in range(homes)
            ),
            start=datetime(2026, 11, 3, 3, 0, tzinfo=tz),
            speed=1.0,
            data_dir=workdir,
            http_port=free_port(),
            timezone=TZ,
            warmup_days=8,
            contacts=(("carer", f"json://127.0.0.1:{hooks.port}/hook"),),
        )
        running = system.build(spec, broker)
        task = asyncio.create_task(system.run(running))
        await asyncio.wait_for(running.dashboard.wait_started(), timeout=30)
        await asyncio.sleep(1.0)
        async with make_client(broker.model_copy(update={"client_id": "bench-door"})) as client:
            for home in running.homes:
                door = next(
                    d for d in home.devices if d.kind is Kind.DOOR and d.room is Room.ENTRANCE
                )
                payload = {
                    "contact": False,
                    "battery": 90,
                    "linkquality": 120,
                    "last_seen": running.clock.now().astimezone(UTC).isoformat(),
                }
                hooks.arrivals.clear()
                sent = time.perf_counter()
                await client.publish(
                    f"{system.base_topic(home.household)}/{door.friendly_name}",
                    json.dumps(payload).encode(),
                    qos=1,
                )
                stored_at = None
                while time.perf_counter() - sent < 10:
                    if stored_at is None and any(
                        a.type is AlertType.NIGHT_DOOR
                        for a in list_alerts(running.dashboard.db, home.household)
                    ):
                        stored_at = time.perf_counter()
                    if stored_at is not None and hooks.arrivals:
                        break
                    await asyncio.sleep(0.005)
                if stored_at is not None:
                    alert_ms.append((stored_at - sent) * 1000)
                if hooks.arrivals:
                    notify_ms.append((min(hooks.arrivals.values()) - sent) * 1000)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        system.close(running)
    return {
        "night_door_homes": homes,
        "night_door_alerts": len(alert_ms),
        "night_door_notified": len(notify_ms),
        "night_door_alert_p50_ms": round(statistics.median(alert_ms), 1) if alert_ms else None,
        "night_door_notify_p50_ms": round(statistics.median(notify_ms), 1) if notify_ms else None,
        "night_door_notify_max_ms": round(max(notify_ms), 1) if notify_ms else None,
        "p50_ms": round(statistics.median(notify_ms), 1) if notify_ms else None,
        "p99_ms": round(_quantile(notify_ms, 0.99), 1) if notify_ms else None,
    }


async def _measure(households: int, door_homes: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-system-") as tmp:
        server = MosquittoServer().start()
        try:
            broker = BrokerSettings(url=server.url)
            figures.update(await _throughput(broker, households, Path(tmp) / "throughput"))
            figures.update(await _night_door(broker, door_homes, Path(tmp) / "door"))
        finally:
            server.close()
    figures["failed"] = bool(figures["lost"] or figures["duplicates"])
    return figures


def measure(args: argparse.Namespace) -> dict[str, Any]:
    quick = bool(getattr(args, "quick", False))
    return asyncio.run(_measure(households=6 if quick else 30, door_homes=2 if quick else 5))
