"""`dagritme bench system`: the whole installation, measured end to end over real mosquitto.

Phase 1, carried load, deployed as processes: one real mosquitto, `dagritme simulate`
publishing a day of Zigbee2MQTT traffic for N homes in a few seconds, one
`dagritme gateway` process per home, one `dagritme detector` and one `dagritme store`
(SQLite) process. A counting subscriber here tallies every `event_id` on the central
events topic: `lost` are state changes the simulator's own homes made (after their first
hour: a gateway reports a device's initial state at its first message) that never arrived,
`duplicates` are ids seen twice, `events_stored` is what the store process persisted. The
first day is offered faster than two cores carry, so `events_per_s` is a ceiling and its
`p50_ms`/`p99_ms` (Z2M message time, `last_seen` mapped back to real time -> arrival here)
include the queueing of a saturated system; the next day is offered at about half that
rate (`paced_*` figures: the latencies of a system that keeps up). `cpu_s` says which part
used the cores during the first day.

Phase 2, the night-door path: several homes at 03:00 (real-time clock), a front door opens
in each, and we time door message -> alert stored in the dashboard database
(`night_door_alert_*_ms`) and -> notification received by a local webhook
(`night_door_notify_*_ms`; target <= 2 s). This phase runs in-process (`dagritme.system`),
in `dagritme.bench_night_door`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import psutil

from dagritme import system, topics
from dagritme.bench_night_door import night_door, quantile
from dagritme.mqtt import BrokerSettings, make_client
from dagritme.servers import MosquittoServer, stop_process
from firmware_sim import cli as simulate_cli
from firmware_sim.config import SimulateConfig
from firmware_sim.home import SimulatedHome
from store.sqlite import SqliteEventStore

TZ = "Europe/Amsterdam"
SEED = 11
# A gateway trusts Z2M's last_seen within 5 real minutes of its clock; on the simulator's
# accelerated clock those minutes cover `speed` times as much data time.
SKEW_REAL_S = 300.0
READY_MARKERS = {
    "store": "consuming events from",
    "detector": "detector connected and subscribed",
    "gateway": "connected to the home broker",
}


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """Phase 1's offered load: `households` homes (one gateway process each).

    First a simulated day in `day_s` real seconds, more than two cores carry, so the rate
    that arrives is the ceiling; then the next day in `paced_day_s`, a load the system
    carries, for the latencies of a system that is not queueing.
    """

    households: int
    day_s: float
    paced_day_s: float
    seed: int = SEED


def speed_for(day_s: float) -> float:
    """Simulated seconds per real second when a day takes `day_s` real seconds."""
    return 86_400 / day_s


FULL = LoadPlan(households=30, day_s=4.0, paced_day_s=30.0)
QUICK = LoadPlan(households=4, day_s=4.0, paced_day_s=8.0)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def _toml(document: dict[str, Any]) -> str:
    """The little TOML our configs need: scalars, tables and arrays of tables."""
    lines = [
        f"{k} = {_toml_value(v)}" for k, v in document.items() if not isinstance(v, dict | list)
    ]
    for key, value in document.items():
        if isinstance(value, dict):
            lines.append(f"\n[{key}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in value.items()]
        elif isinstance(value, list):
            for row in value:
                lines.append(f"\n[[{key}]]")
                lines += [f"{k} = {_toml_value(v)}" for k, v in row.items()]
    return "\n".join(lines) + "\n"


def _gateway_toml(home: SimulatedHome, url: str, workdir: Path, speed: float) -> str:
    return _toml(
        {
            "household": home.household,
            "base_topic": system.base_topic(home.household),
            "queue_path": str(workdir / f"gateway-{home.household}.sqlite"),
            "timezone": str(home.tz),
            "max_clock_skew_s": SKEW_REAL_S * max(1.0, speed),
            "home_broker": {"url": url},
            "central_broker": {"url": url},
            "devices": [
                {
                    "friendly_name": d.friendly_name,
                    "sensor": d.sensor,
                    "kind": d.kind.value,
                    "room": d.room.value,
                }
                for d in home.devices
            ],
        }
    )


@dataclass
class _Child:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]

    def log_text(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")


@dataclass
class _Children:
    """Every child process of the run; all are stopped on exit, whatever ends the run."""

    workdir: Path
    children: list[_Child] = field(default_factory=list)

    def start(self, name: str, *arguments: str) -> _Child:
        log_path = self.workdir / f"{name}.log"
        log = log_path.open("wb")
        command = [sys.executable, "-m", "dagritme.cli", *arguments]
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        child = _Child(name, proc, log_path, log)
        self.children.append(child)
        return child

    async def wait_ready(self, children: Sequence[_Child], within_s: float) -> None:
        deadline = time.monotonic() + within_s
        pending = list(children)
        while pending:
            for child in pending:
                if child.proc.poll() is not None:
                    raise RuntimeError(f"{child.name} exited early:\n{child.log_text()[-2000:]}")
            pending = [
                c for c in pending if READY_MARKERS[c.name.split("-")[0]] not in c.log_text()
            ]
            if pending and time.monotonic() > deadline:
                raise RuntimeError(f"not ready after {within_s} s: {pending[0].name}")
            await asyncio.sleep(0.1)

    def stop_all(self) -> None:
        for child in self.children:
            if child.proc.poll() is None:
                child.proc.terminate()
        for child in self.children:
            stop_process(child.proc)
            child.log.close()


@contextlib.contextmanager
def _children(workdir: Path) -> Iterator[_Children]:
    running = _Children(workdir)
    try:
        yield running
    finally:
        running.stop_all()


@dataclass
class _Tally:
    """What the counting subscriber saw of one simulated day."""

    start: datetime  # data time at which the simulator's clock began
    speed: float
    expected: set[str]  # event_ids of the state changes the homes made after their first hour
    arrivals: dict[str, tuple[float, datetime]] = field(default_factory=dict)  # first, data ts
    seen: Counter[str] = field(default_factory=Counter)
    # For one home's raw Z2M messages: arrival minus (last_seen as real time since start);
    # the smallest is when the simulator's clock started, to within one broker hop.
    origin_samples: list[float] = field(default_factory=list)
    last_arrival: float = 0.0

    def note_event(self, event_id: str, ts: datetime, arrived: float) -> None:
        self.seen[event_id] += 1
        self.last_arrival = arrived
        self.arrivals.setdefault(event_id, (arrived, ts))

    def note_z2m(self, last_seen: datetime, arrived: float) -> None:
        data_s = (last_seen - self.start).total_seconds()
        self.origin_samples.append(arrived - data_s / self.speed)


@dataclass
class _CounterTarget:
    """The day the counter currently tallies (none between days)."""

    tally: _Tally | None = None


async def _count(
    url: str, calibration_topic: str, target: _CounterTarget, ready: asyncio.Event
) -> None:
    settings = BrokerSettings(url=url, client_id="bench-counter")
    async with make_client(settings) as client:
        await client.subscribe(topics.subscription(topics.Channel.EVENTS), qos=1)
        await client.subscribe(calibration_topic, qos=0)
        ready.set()
        async for message in client.messages:
            arrived = time.perf_counter()
            tally = target.tally
            if tally is None or not isinstance(message.payload, bytes):
                continue
            try:
                body = json.loads(message.payload)
            except json.JSONDecodeError:
                continue  # plain availability strings on the Z2M topics
            if not isinstance(body, dict):
                continue
            if "event_id" in body:
                tally.note_event(body["event_id"], datetime.fromisoformat(body["ts"]), arrived)
            elif "last_seen" in body:
                tally.note_z2m(datetime.fromisoformat(body["last_seen"]), arrived)


def simulated_homes(
    households: int, seed: int, day: date, day_s: float
) -> tuple[SimulateConfig, list[SimulatedHome]]:
    """The simulator's homes, built here by the same code `dagritme simulate` runs."""
    config = SimulateConfig(
        households=households,
        days=1,
        seed=seed,
        start=day,
        timezone=TZ,
        speed=speed_for(day_s),
        base_topic="z2m-{household}",
    )
    homes, _ = simulate_cli.build(config, day)
    return config, homes


def write_configs(url: str, homes: Sequence[SimulatedHome], workdir: Path, speed: float) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    for home in homes:
        (workdir / f"gateway-{home.household}.toml").write_text(
            _gateway_toml(home, url, workdir, speed)
        )
    (workdir / "detector.toml").write_text(
        _toml(
            {
                "default_timezone": TZ,
                "state_dir": str(workdir / "detector-state"),
                "broker": {"url": url, "client_id": "bench-detector"},
            }
        )
    )
    (workdir / "store.toml").write_text(
        _toml(
            {
                "broker": {"url": url, "client_id": "bench-store"},
                "store": {"backend": "sqlite"},
                "store.sqlite": {"path": str(workdir / "events.sqlite")},
            }
        )
    )


async def _wait_quiet(tally: _Tally, simulator: subprocess.Popen[bytes], deadline: float) -> None:
    """Until every expected event arrived, or the simulator is done and 3 s passed quietly."""
    while time.perf_counter() < deadline:
        await asyncio.sleep(0.2)
        if tally.expected <= tally.seen.keys():
            await asyncio.sleep(0.5)  # a late duplicate still counts
            return
        done = simulator.poll() is not None
        if done and time.perf_counter() - tally.last_arrival > 3.0:
            return


async def _reap(proc: subprocess.Popen[bytes], within_s: float) -> None:
    deadline = time.perf_counter() + within_s
    while proc.poll() is None and time.perf_counter() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.1)  # a child process has no awaitable exit here
    stop_process(proc)


async def _stored_count(path: Path, target: int, within_s: float) -> int:
    store = SqliteEventStore(path)
    try:
        deadline = time.perf_counter() + within_s
        while store.count() < target and time.perf_counter() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.2)  # the store process has no "written" signal to wait on
        return store.count()
    finally:
        store.close()


def _cpu_seconds(children: _Children) -> dict[str, float]:
    """CPU seconds used so far per part: live children, mosquitto, this process, and the
    reaped children (within one simulated day: the simulator, which has exited by then)."""
    used: dict[str, float] = {}
    for child in children.children:
        with contextlib.suppress(psutil.Error):
            times = psutil.Process(child.proc.pid).cpu_times()
            part = child.name.split("-")[0]
            used[part] = used.get(part, 0.0) + times.user + times.system
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    used["simulator"] = reaped.ru_utime + reaped.ru_stime
    for process in psutil.Process().children():
        with contextlib.suppress(psutil.Error):
            if process.name() == "mosquitto":
                times = process.cpu_times()
                used["mosquitto"] = times.user + times.system
    used["bench"] = time.process_time()
    return used


@dataclass(frozen=True, slots=True)
class _DayResult:
    tally: _Tally
    simulator_lag_s: float | None


async def _play_day(
    children: _Children, url: str, plan: LoadPlan, day: date, day_s: float, target: _CounterTarget
) -> _DayResult:
    """`dagritme simulate` plays one day of the homes; the counter tallies what arrives."""
    tz = ZoneInfo(TZ)
    config, homes = simulated_homes(plan.households, plan.seed, day, day_s)
    start = datetime.combine(day, time_of_day()).replace(tzinfo=tz).astimezone(UTC)
    settled = start + timedelta(hours=1)
    expected = {e.event_id for home in homes for e in home.events(settled, start + timedelta(1))}
    tally = _Tally(start=start, speed=speed_for(day_s), expected=expected)
    target.tally = tally
    simulator = children.start(
        f"simulator-{day.isoformat()}",
        "simulate",
        "--households", str(plan.households),
        "--days", "1",
        "--speed", str(speed_for(day_s)),
        "--seed", str(plan.seed),
        "--start", day.isoformat(),
        "--timezone", TZ,
        "--base-topic", config.base_topic,
        "--mqtt", url,
    )  # fmt: skip
    await _wait_quiet(tally, simulator.proc, time.perf_counter() + day_s + 60)
    await _reap(simulator.proc, within_s=10)
    target.tally = None
    lag = re.search(r"largest lag ([0-9.]+) simulated s", simulator.log_text())
    return _DayResult(tally, float(lag.group(1)) / tally.speed if lag else None)


async def _throughput(url: str, plan: LoadPlan, workdir: Path) -> dict[str, Any]:
    # The two days before today: the gateways stamp events with last_seen only while it is
    # near their wall clock (max_clock_skew_s), and the detector refuses events from the
    # future, so the simulated days must lie in the recent past, in order.
    first_day = datetime.now(ZoneInfo(TZ)).date() - timedelta(days=2)
    _, homes = simulated_homes(plan.households, plan.seed, first_day, plan.day_s)
    write_configs(url, homes, workdir, speed_for(min(plan.day_s, plan.paced_day_s)))
    target = _CounterTarget()
    ready = asyncio.Event()
    calibration = f"{system.base_topic(homes[0].household)}/#"
    counter = asyncio.create_task(_count(url, calibration, target, ready))
    try:
        await asyncio.wait_for(ready.wait(), timeout=10)
        with _children(workdir) as children:
            started = time.perf_counter()
            services = [
                children.start("store", "store", "--config", str(workdir / "store.toml")),
                children.start("detector", "detector", "--config", str(workdir / "detector.toml")),
            ]
            gateways = [
                children.start(
                    f"gateway-{home.household}",
                    "gateway",
                    "--config",
                    str(workdir / f"gateway-{home.household}.toml"),
                )
                for home in homes
            ]
            await children.wait_ready([*services, *gateways], within_s=60)
            startup_s = time.perf_counter() - started
            cpu_before = _cpu_seconds(children)
            loaded = await _play_day(children, url, plan, first_day, plan.day_s, target)
            cpu_after = _cpu_seconds(children)
            cpu_used = {k: v - cpu_before.get(k, 0.0) for k, v in cpu_after.items()}
            paced = await _play_day(
                children, url, plan, first_day + timedelta(1), plan.paced_day_s, target
            )
            seen = len(loaded.tally.seen) + len(paced.tally.seen)
            stored = await _stored_count(workdir / "events.sqlite", seen, within_s=10)
    finally:
        counter.cancel()
        await asyncio.gather(counter, return_exceptions=True)
    figures = _day_figures(loaded, plan.day_s)
    figures.update({f"paced_{k}": v for k, v in _day_figures(paced, plan.paced_day_s).items()})
    return {
        "households": plan.households,
        "gateway_processes": plan.households,
        "startup_s": round(startup_s, 1),
        **figures,
        "lost": figures["lost"] + figures["paced_lost"],
        "duplicates": figures["duplicates"] + figures["paced_duplicates"],
        "events_stored": stored,
        "store_missing": seen - stored,
        "cpu_s": {part: round(seconds, 1) for part, seconds in sorted(cpu_used.items())},
    }


def _day_figures(result: _DayResult, day_s: float) -> dict[str, Any]:
    tally = result.tally
    window = [tally.arrivals[i] for i in tally.expected if i in tally.arrivals]
    arrivals = [arrived for arrived, _ in window]
    elapsed = max(arrivals) - min(arrivals) if len(arrivals) > 1 else 0.0
    latencies: list[float] = []
    if tally.origin_samples:
        origin = min(tally.origin_samples)
        latencies = [
            (arrived - origin - (ts - tally.start).total_seconds() / tally.speed) * 1000
            for arrived, ts in window
        ]
    received = sum(tally.seen.values())
    offered = len(tally.expected) / (day_s * 23 / 24)  # the window skips the first hour
    return {
        "speed": round(tally.speed, 1),
        "events_expected": len(tally.expected),
        "offered_events_per_s": round(offered, 1),
        "events_received": received,
        "events_per_s": round(len(window) / elapsed, 1) if elapsed else 0.0,
        "carry_s": round(elapsed, 2),
        "lost": len(tally.expected - tally.seen.keys()),
        "received_outside_window": len(tally.seen.keys() - tally.expected),
        "duplicates": received - len(tally.seen),
        "p50_ms": round(quantile(latencies, 0.5), 1) if latencies else None,
        "p99_ms": round(quantile(latencies, 0.99), 1) if latencies else None,
        # The offered load was not carried: events_per_s is then the system's ceiling.
        "saturated": bool(elapsed) and len(window) / elapsed < 0.9 * offered,
        "simulator_max_lag_real_s": (
            round(result.simulator_lag_s, 2) if result.simulator_lag_s is not None else None
        ),
    }


def _loadavg() -> str | None:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return None


def _cancel_on_sigterm() -> None:
    """SIGTERM ends the run like Ctrl-C does: cancelled, so every child process is stopped."""
    task = asyncio.current_task()
    if task is not None:
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not main thread, Windows
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)


async def _measure(plan: LoadPlan, door_homes: int) -> dict[str, Any]:
    _cancel_on_sigterm()
    # Other work on the machine shares the two cores: the load average says how much.
    figures: dict[str, Any] = {"loadavg_before": _loadavg()}
    with tempfile.TemporaryDirectory(prefix="bench-system-") as tmp:
        server = MosquittoServer().start()
        try:
            figures.update(await _throughput(server.url, plan, Path(tmp) / "throughput"))
            figures["loadavg_after_carried_load"] = _loadavg()
        finally:
            server.close()
        # A fresh broker: nothing retained or queued from phase 1 reaches phase 2.
        server = MosquittoServer().start()
        try:
            broker = BrokerSettings(url=server.url)
            figures.update(await night_door(broker, door_homes, Path(tmp) / "door"))
        finally:
            server.close()
    figures["failed"] = bool(figures["lost"] or figures["duplicates"])
    return figures


def measure(args: argparse.Namespace) -> dict[str, Any]:
    quick = bool(getattr(args, "quick", False))
    return asyncio.run(_measure(QUICK if quick else FULL, door_homes=2 if quick else 5))
