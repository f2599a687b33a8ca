"""Store fixtures: one real influxd per session, and the same tests against every backend."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from store.base import EventStore
from store.config import InfluxSettings
from store.influx import InfluxEventStore
from store.influx_server import InfluxServer, find_influxd
from store.sqlite import SqliteEventStore

BACKENDS = ["sqlite", "influx"]
_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def influx_server() -> Iterator[InfluxServer]:
    """A real influxd 1.x for the whole session (it takes a moment to start)."""
    if find_influxd() is None:
        pytest.fail("influxd is not installed: run scripts/install-system-deps.sh")
    server = InfluxServer().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def influx_database(influx_server: InfluxServer) -> Iterator[str]:
    """A fresh, empty database for one test."""
    name = influx_server.create_database(f"test_{next(_database_numbers)}")
    try:
        yield name
    finally:
        influx_server.drop_database(name)


@pytest.fixture
def influx_settings(influx_server: InfluxServer, influx_database: str) -> InfluxSettings:
    return InfluxSettings(url=influx_server.url, database=influx_database)


@pytest.fixture(params=BACKENDS)
def event_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    store: EventStore
    if request.param == "sqlite":
        store = SqliteEventStore(tmp_path / "events.sqlite")
    else:
        store = InfluxEventStore(request.getfixturevalue("influx_settings"))
    try:
        yield store
    finally:
        store.close()
