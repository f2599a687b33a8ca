"""`dagritme store` killed with SIGKILL mid-stream loses no event (real processes and servers).

The consumer acknowledges a message only once it is stored, so whatever the killed process
held is redelivered by the broker to the restarted one; duplicates collapse by event_id.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from dagritme.mqtt import BrokerSettings
from store.config import InfluxSettings
from store.influx_http import InfluxHttp
from store.influx_server import InfluxServer
from store.sqlite import SqliteEventStore

from .test_consumer import as_payloads, events_for, publish, wait_until

EVENTS = 6000
KILL_AFTER_STORED = 1500
POLL_S = 0.05


def service_config(tmp_path: Path, broker: BrokerSettings, store_section: str) -> Path:
    config = tmp_path / "store.toml"
    config.write_text(
        f'[broker]\nurl = "{broker.url}"\nclient_id = "store-crash-test"\n'
        f"{store_section}"
        "[consumer]\nbatch_size = 500\nmax_unacked = 2000\nflush_interval_s = 0.1\n"
    )
    return config


@contextlib.asynccontextmanager
async def service(config: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "dagritme.cli", "store", "--config", str(config)
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def wait_until_consuming(
    broker: BrokerSettings, stored: Callable[[], int], within_s: float = 20
) -> None:
    """QoS 1 messages reach a session only once it subscribed: probe with the first event."""
    probe = as_payloads(events_for("hh-1", 1))
    deadline = asyncio.get_running_loop().time() + within_s
    while stored() == 0:
        assert asyncio.get_running_loop().time() < deadline, "service never stored"
        await publish(broker, probe)
        await asyncio.sleep(0.2)


async def kill_mid_stream_and_restart(
    broker: BrokerSettings, config: Path, stored: Callable[[], int]
) -> int:
    """Returns how many events were stored when the first process was killed."""
    async with service(config) as first:
        await wait_until_consuming(broker, stored)
        stream = asyncio.create_task(publish(broker, as_payloads(events_for("hh-1", EVENTS))))
        await wait_until(lambda: stored() >= KILL_AFTER_STORED, within_s=60)
        first.send_signal(signal.SIGKILL)
        await first.wait()
    await stream  # the broker keeps the rest for the persistent session
    # Counted after the stream: a write the killed process had in flight may still land.
    killed_at = stored()
    async with service(config) as second:
        await wait_until(lambda: stored() == EVENTS, within_s=60)
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), 15) == 0
    return killed_at


async def test_sigkill_mid_stream_loses_nothing_with_sqlite(
    broker: BrokerSettings, tmp_path: Path
) -> None:
    db = tmp_path / "events.sqlite"
    config = service_config(tmp_path, broker, f'[store.sqlite]\npath = "{db}"\n')
    reader = SqliteEventStore(db)
    try:
        killed_at = await kill_mid_stream_and_restart(broker, config, reader.count)
        assert killed_at < EVENTS, "the kill came after the stream, not in the middle of it"
        assert [e.seq for e in reader.export("hh-1")] == list(range(EVENTS))
    finally:
        reader.close()


async def test_sigkill_mid_stream_loses_nothing_with_influxdb(
    broker: BrokerSettings, tmp_path: Path, influx_server: InfluxServer, influx_database: str
) -> None:
    settings = InfluxSettings(url=influx_server.url, database=influx_database)
    config = service_config(
        tmp_path,
        broker,
        f'[store]\nbackend = "influx"\n[store.influx]\nurl = "{influx_server.url}"\n'
        f'database = "{influx_database}"\n',
    )
    http = InfluxHttp(settings)

    def stored() -> int:
        counts = http.select('SELECT count("event_id") FROM "sensor_event"')
        return sum(int(row[1]) for series in counts for row in series.values)

    try:
        killed_at = await kill_mid_stream_and_restart(broker, config, stored)
        assert killed_at < EVENTS, "the kill came after the stream, not in the middle of it"
    finally:
        http.close()
