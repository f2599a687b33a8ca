"""`dagritme bench gateway --json`: Z2M messages in -> canonical events out, QoS 1, real brokers.

Two real mosquittos (home and central), the gateway as its own process (`dagritme gateway`),
a producer process that publishes Zigbee2MQTT state changes with `last_seen` to the home
broker, and a consumer that counts canonical events by `event_id` on the central broker.

Two phases: a burst (as fast as the producer can) for `events_per_s` (first publish to last
event received), then a paced run (`paced_events_per_s`) for `p50_ms`/`p99_ms` (last_seen ->
received; last_seen has millisecond resolution). A burst's own latencies are queueing time
and reported as `burst_p50_ms`/`burst_p99_ms`. `lost`: expected ids never seen; `duplicates`:
deliveries beyond the first per id plus ids nobody expected (both phases). `rss_mb`: peak
resident memory of the gateway process; `gateway_cpu_ms_per_event`: its CPU per event.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import aiomqtt
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from dagritme import topics
from dagritme.models import make_event_id
from dagritme.mqtt import BrokerSettings, make_client
from dagritme.servers import MosquittoServer
from gateway.client_tuning import allow_inflight, disable_nagle, take_queued

HOUSEHOLD = "bench-hh"
DEVICES = 100
WINDOW = 20
PRODUCER_WINDOW = 100
PACE_STEP = 10
PAYLOAD_TEMPLATE = '{"occupancy": %s, "battery": 90, "linkquality": 110, "last_seen": "%s"}'


@dataclass
class Tally:
    expected: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    last_received: float = 0.0
    last_ts: dict[int, datetime] = field(default_factory=dict)
    warm_up: set[str] = field(default_factory=set)


def _config_text(home: str, central: str, queue: Path) -> str:
    lines = [
        f'household = "{HOUSEHOLD}"',
        f'queue_path = "{queue}"',
        "heartbeat_interval_s = 5",
        f'[home_broker]\nurl = "{home}"',
        f'[central_broker]\nurl = "{central}"',
    ]
    for number in range(DEVICES):
        lines.append(
            f'[[devices]]\nfriendly_name = "motion_{number}"\nsensor = "M{number:03d}"\n'
            'kind = "motion"\nroom = "living"'
        )
    return "\n".join(lines) + "\n"


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    return round(ticks / os.sysconf("SC_CLK_TCK"), 2)


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def _consume(central: BrokerSettings, tally: Tally, ready: asyncio.Event) -> None:
    async with make_client(central) as client:
        disable_nagle(client)
        await client.subscribe(topics.events(HOUSEHOLD), qos=1)
        ready.set()
        async for first in client.messages:
            now = time.time()
            for message in (first, *take_queued(client)):
                assert isinstance(message.payload, bytes)
                _count(message.payload, now, tally)


def _field(payload: bytes, key: bytes) -> str:
    """A string field of a canonical event, sliced out of the JSON: the consumer must not
    be the bottleneck (it shares the two cores with the gateway and both brokers)."""
    start = payload.index(b'"' + key + b'":"') + len(key) + 4
    return payload[start : payload.index(b'"', start)].decode()


def _count(payload: bytes, now: float, tally: Tally) -> None:
    event_id = _field(payload, b"event_id")
    if event_id in tally.warm_up:
        return  # a straggler of the warm-up, not part of the timed run
    tally.counts[event_id] = tally.counts.get(event_id, 0) + 1
    sent = datetime.fromisoformat(_field(payload, b"ts")).timestamp()
    tally.latencies_ms.append((now - sent) * 1000)
    tally.last_received = now


def _message(number: int, tally: Tally) -> tuple[str, bytes]:
    device = number % DEVICES
    on = (number // DEVICES) % 2 == 0
    now = datetime.now(UTC)
    ts = now.replace(microsecond=now.microsecond // 1000 * 1000)
    previous = tally.last_ts.get(device)
    if previous is not None and ts <= previous:
        # A real sensor never reports twice in one millisecond; the bench outruns the clock.
        ts = previous + timedelta(milliseconds=1)
    tally.last_ts[device] = ts
    # What Zigbee2MQTT sends for a motion sensor with `last_seen: ISO_8601`.
    payload = PAYLOAD_TEMPLATE % (
        "true" if on else "false",
        ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    )
    tally.expected.add(make_event_id(HOUSEHOLD, f"M{device:03d}", ts, "on" if on else "off"))
    return f"zigbee2mqtt/motion_{device}", payload.encode()


async def _produce(client: aiomqtt.Client, start: int, count: int, tally: Tally) -> None:
    for first in range(start, start + count, WINDOW):
        batch = [_message(n, tally) for n in range(first, min(first + WINDOW, start + count))]
        await asyncio.gather(*(client.publish(topic, data, qos=1) for topic, data in batch))


def _producer_process(url: str, start: int, count: int, rate: float, expected_file: str) -> None:
    """The timed producer, in its own process so that it does not share a core with the
    consumer; plain paho with its network thread (no callbacks), the cheapest client."""
    settings = BrokerSettings(url=url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.max_inflight_messages_set(PRODUCER_WINDOW)
    client.max_queued_messages_set(0)
    client.connect(settings.host, settings.port)
    sock = client.socket()
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client.loop_start()
    tally = Tally()
    started = time.time()
    sent = []
    for n in range(start, start + count):
        if rate and n % PACE_STEP == 0:
            # Paced phase: hold the rate, so latency is the pipeline's, not a queue's.
            ahead = started + (n - start) / rate - time.time()
            if ahead > 0:
                time.sleep(ahead)
        sent.append(client.publish(*_message(n, tally), qos=1))
    for info in sent:
        info.wait_for_publish(60)
    client.disconnect()
    client.loop_stop()
    Path(expected_file).write_text(
        json.dumps({"started": started, "expected": sorted(tally.expected)})
    )


async def _wait_until(tally: Tally, total: int, within: float) -> None:
    for _ in range(int(within / 0.05)):
        if len(tally.counts) >= total:
            return
        await asyncio.sleep(0.05)


def _start_gateway(config: Path, log: IO[bytes]) -> subprocess.Popen[bytes]:
    """The gateway as in production: its own process, started by `dagritme gateway`."""
    command = [sys.executable, "-m", "dagritme.cli", "gateway", "--config", str(config)]
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


async def _phase(
    url: str, start: int, count: int, rate: float, tally: Tally, workdir: Path
) -> dict[str, Any]:
    """One timed run of `count` messages (as fast as possible when `rate` is 0)."""
    tally.warm_up |= set(tally.counts)
    tally.expected.clear()
    tally.counts.clear()
    tally.latencies_ms.clear()
    expected_file = workdir / "expected.json"
    producing = multiprocessing.get_context("spawn").Process(
        target=_producer_process, args=(url, start, count, rate, str(expected_file))
    )
    producing.start()
    await asyncio.to_thread(producing.join)
    produced = json.loads(expected_file.read_text())
    tally.expected = set(produced["expected"])
    started = float(produced["started"])
    await _wait_until(tally, count, 60)
    await asyncio.sleep(0.5)  # late duplicates would show up here
    elapsed = tally.last_received - started
    received = set(tally.counts)
    latencies = sorted(tally.latencies_ms)
    return {
        "events_per_s": round(len(received & tally.expected) / elapsed) if elapsed > 0 else 0,
        "lost": len(tally.expected - received),
        "duplicates": sum(n - 1 for n in tally.counts.values()) + len(received - tally.expected),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))], 1) if latencies else None,
        "seconds": round(elapsed, 2),
    }


async def _run(
    total: int, workdir: Path, paced_events: int = 2_000, paced_rate: float = 1_000.0
) -> dict[str, Any]:
    home = MosquittoServer().start()
    central = MosquittoServer().start()
    config = workdir / "gateway.toml"
    config.write_text(_config_text(home.url, central.url, workdir / "queue.sqlite3"))
    log = (workdir / "gateway.log").open("wb")
    gateway = _start_gateway(config, log)
    tally = Tally()
    ready = asyncio.Event()
    consumer = asyncio.create_task(_consume(BrokerSettings(url=central.url), tally, ready))
    try:
        await asyncio.wait_for(ready.wait(), 10)
        producer = make_client(BrokerSettings(url=home.url))
        allow_inflight(producer, WINDOW)
        async with producer:
            disable_nagle(producer)
            # Until the gateway has subscribed, the home broker drops what is published.
            warm = 0
            while not tally.counts and warm < 50 * DEVICES:
                await _produce(producer, warm, DEVICES, tally)
                warm += DEVICES
                await asyncio.sleep(0.2)
            tally.warm_up = set(tally.expected)
            tally.expected.clear()
            tally.counts.clear()
            await _produce(producer, warm, DEVICES, tally)  # warm-up, fully delivered
            warm += DEVICES
            await _wait_until(tally, len(tally.expected), 10)
            tally.warm_up |= set(tally.expected)
            cpu_before = _cpu_seconds(gateway.pid)
            burst = await _phase(home.url, warm, total, 0.0, tally, workdir)
            warm += total
            paced = await _phase(home.url, warm, paced_events, paced_rate, tally, workdir)
        return {
            "events": total,
            "events_per_s": burst["events_per_s"],
            "lost": burst["lost"] + paced["lost"],
            "duplicates": burst["duplicates"] + paced["duplicates"],
            "p50_ms": paced["p50_ms"],
            "p99_ms": paced["p99_ms"],
            "paced_events_per_s": paced_rate,
            "burst_p50_ms": burst["p50_ms"],
            "burst_p99_ms": burst["p99_ms"],
            "rss_mb": _peak_rss_mb(gateway.pid),
            "gateway_cpu_ms_per_event": round(
                1000 * (_cpu_seconds(gateway.pid) - cpu_before) / (total + paced_events), 3
            ),
            "burst_seconds": burst["seconds"],
        }
    finally:
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)
        gateway.terminate()
        gateway.wait(10)
        log.close()
        home.close()
        central.close()


def measure(args: argparse.Namespace) -> dict[str, Any]:
    quick = getattr(args, "quick", False)
    total, paced = (5_000, 1_000) if quick else (50_000, 5_000)
    with tempfile.TemporaryDirectory(prefix="dagritme-gw-bench-") as folder:
        figures = asyncio.run(_run(total, Path(folder), paced_events=paced))
    figures["failed"] = bool(figures["lost"] or figures["duplicates"])
    return figures
