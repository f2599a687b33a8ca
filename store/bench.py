"""`dagritme bench store`: batched write throughput and the 4-week heatmap query, both backends.

Starts its own InfluxDB (store.influx_server) and a temporary SQLite file. The data is a
synthetic population: one household with four weeks of CASAS-like density (the heatmap
household) and many others sharing the rest, so the heatmap query filters one household
out of a larger database. Event objects are built before the clock starts; the timing
covers encoding, HTTP/SQL and the server's work.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dagritme.models import Event, Kind, Room, Value, make_event_id

from .base import BufferedStore, EventStore, StoreError, batched
from .bench_consumer import measure_consumer
from .config import InfluxSettings
from .influx import InfluxEventStore
from .influx_server import InfluxServer
from .sqlite import SqliteEventStore

logger = logging.getLogger(__name__)

START = datetime(2026, 1, 5, tzinfo=UTC)
DAYS = 28
BATCH = 5000
HEATMAP_HOUSEHOLD = "bench-heatmap"
SENSORS = [
    ("M-bed", Room.BEDROOM, Kind.MOTION),
    ("M-bath", Room.BATHROOM, Kind.MOTION),
    ("M-wc", Room.TOILET, Kind.MOTION),
    ("M-kitchen", Room.KITCHEN, Kind.MOTION),
    ("M-living", Room.LIVING, Kind.MOTION),
    ("M-hall", Room.HALL, Kind.MOTION),
    ("D-front", Room.ENTRANCE, Kind.DOOR),
    ("C-fridge", Room.KITCHEN, Kind.CONTACT),
]
_VALUES = {Kind.MOTION: (Value.ON, Value.OFF), Kind.DOOR: (Value.OPEN, Value.CLOSED)}


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments come from dagritme.bench (target, --json, --quick)."""


def synthetic_events(household: str, count: int, rng: random.Random) -> list[Event]:
    """`count` events over four weeks, alternating presence and absence per sensor."""
    span_us = DAYS * 86_400 * 1_000_000
    offsets = sorted(rng.randrange(span_us) for _ in range(count))
    events = []
    for seq, offset in enumerate(offsets):
        sensor, room, kind = SENSORS[rng.randrange(len(SENSORS))]
        value = _VALUES.get(kind, (Value.ON, Value.OFF))[seq % 2]
        ts = START + timedelta(microseconds=offset)
        # model_construct: these are known-valid, and validating 10^5 of them is not the
        # thing being measured.
        events.append(
            Event.model_construct(
                schema_version=1,
                event_id=make_event_id(household, sensor, ts, f"{value}:{seq}"),
                household=household,
                sensor=sensor,
                kind=kind,
                room=room,
                value=value,
                ts=ts,
                seq=seq,
            )
        )
    return events


def population(total: int, heatmap_events: int, households: int) -> list[Event]:
    rng = random.Random(20260105)
    events = synthetic_events(HEATMAP_HOUSEHOLD, heatmap_events, rng)
    per_household = max(1, (total - heatmap_events) // households)
    for number in range(households):
        events.extend(synthetic_events(f"bench-{number:04d}", per_household, rng))
    # Arrival order: roughly by time, as a live broker delivers them.
    events.sort(key=lambda e: e.ts)
    return events


def time_writes(store: EventStore, events: list[Event]) -> float:
    started = time.perf_counter()
    for batch in batched(events, BATCH):
        store.write(batch)
    if isinstance(store, BufferedStore) and not store.flush():
        raise StoreError("the benchmark's InfluxDB stopped taking writes")
    return len(events) / (time.perf_counter() - started)


def time_query_ms(run: Any, repeats: int) -> tuple[float, float]:
    """(first run, median of the following runs) in milliseconds."""
    timings = []
    for _ in range(repeats + 1):
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) * 1000)
    return timings[0], statistics.median(timings[1:])


def measure_store(name: str, store: EventStore, events: list[Event]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    figures[f"{name}_events_per_s"] = round(time_writes(store, events))
    end = START + timedelta(days=DAYS)
    buckets: list[Any] = []

    def heatmap() -> None:
        buckets[:] = store.activity(HEATMAP_HOUSEHOLD, START, end, timedelta(hours=1))

    cold, warm = time_query_ms(heatmap, repeats=5)
    figures[f"{name}_heatmap_ms"] = round(warm, 2)
    figures[f"{name}_heatmap_cold_ms"] = round(cold, 2)
    figures[f"{name}_heatmap_buckets"] = len(buckets)
    _, daily = time_query_ms(
        lambda: store.daily(HEATMAP_HOUSEHOLD, START.date(), end.date(), "Europe/Amsterdam"), 3
    )
    figures[f"{name}_daily_28d_ms"] = round(daily, 2)
    return figures


def measure(args: argparse.Namespace) -> dict[str, Any]:
    # One INFO line per HTTP request would drown the figures.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # aiomqtt warns about every publish beyond ten in flight, which is the point here.
    logging.getLogger("mqtt").setLevel(logging.ERROR)
    quick = bool(getattr(args, "quick", False))
    total = 40_000 if quick else 400_000
    heatmap_events = 14_000 if quick else 56_000  # ~2,000 a day, as in the CASAS homes
    events = population(total, heatmap_events, households=20 if quick else 200)
    figures: dict[str, Any] = {
        "events": len(events),
        "batch_size": BATCH,
        "quick": quick,
        # Figures on a shared 2-core machine depend on what else runs: say how busy it was.
        "load_avg_1m_before": round(os.getloadavg()[0], 2),
    }
    with tempfile.TemporaryDirectory(prefix="store-bench-") as tmp:
        sqlite = SqliteEventStore(Path(tmp) / "events.sqlite")
        try:
            figures |= measure_store("sqlite", sqlite, events)
        finally:
            sqlite.close()
    server = InfluxServer().start()
    try:
        server.create_database("bench")
        settings = InfluxSettings(url=server.url, database="bench")
        figures["influx_request_max_points"] = settings.batch_size
        influx = InfluxEventStore(settings)
        try:
            figures |= measure_store("influx", influx, events)
        finally:
            influx.close()
        # The same writes gzip-compressed: what the option costs where the link is fast.
        server.create_database("bench_gzip")
        gzipped = InfluxEventStore(
            settings.model_copy(update={"database": "bench_gzip", "gzip": True})
        )
        try:
            figures["influx_gzip_events_per_s"] = round(time_writes(gzipped, events))
        finally:
            gzipped.close()
        server.create_database("bench_consumer")
        figures |= measure_consumer(server.url, events[: 5_000 if quick else 50_000])
    finally:
        server.close()
    figures["events_per_s"] = figures["influx_events_per_s"]
    figures["targets"] = {"influx_events_per_s": ">= 50000", "heatmap_ms": "<= 100"}
    figures["targets_met"] = (
        figures["influx_events_per_s"] >= 50_000
        and figures["influx_heatmap_ms"] <= 100
        and figures["sqlite_heatmap_ms"] <= 100
    )
    return figures
