"""Phase 2 of `dagritme bench system`: the night-door path, door message to notification.

Several homes at 03:00 (real-time clock) in one in-process installation (`dagritme.system`);
a front door opens in each, and we time door message -> alert stored in the dashboard
database (`night_door_alert_*_ms`) and -> notification received by a local webhook
(`night_door_notify_*_ms`; target <= 2 s).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dagritme import system
from dagritme.models import AlertType, Kind, Room
from dagritme.mqtt import BrokerSettings, make_client
from dagritme.servers import free_port
from dashboard.alert_store import list_alerts

TZ = "Europe/Amsterdam"


def quantile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


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


async def night_door(broker: BrokerSettings, homes: int, workdir: Path) -> dict[str, Any]:
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
        "night_door_notify_p99_ms": round(quantile(notify_ms, 0.99), 1) if notify_ms else None,
    }
