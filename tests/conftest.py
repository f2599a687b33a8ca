"""Shared fixtures: real servers on free loopback ports, the real datasets."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from dagritme.mqtt import BrokerSettings
from dagritme.servers import MosquittoServer, find_mosquitto

REPO = Path(__file__).resolve().parent.parent


def _datasets_dir() -> Path:
    env = os.environ.get("DAGRITME_DATASETS")
    if env:
        return Path(env)
    return REPO.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    folder = _datasets_dir()
    if not (folder / "casas-al-smarthome").is_dir():
        pytest.fail(f"real datasets not found at {folder} (set DAGRITME_DATASETS)")
    return folder


@pytest.fixture
def mosquitto_server() -> Iterator[MosquittoServer]:
    """A real, anonymous mosquitto on a free port, new for each test."""
    if find_mosquitto() is None:
        pytest.fail("mosquitto is not installed: run scripts/install-system-deps.sh")
    server = MosquittoServer().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def broker(mosquitto_server: MosquittoServer) -> BrokerSettings:
    return BrokerSettings(url=mosquitto_server.url)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    folder = REPO / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder
