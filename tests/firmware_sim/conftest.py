"""Fixtures of the simulator tests: a reference day and small homes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from firmware_sim.home import SimulatedHome
from firmware_sim.personas import persona

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MONDAY = date(2026, 1, 5)


@pytest.fixture
def z2m_fixtures() -> Path:
    return FIXTURES / "z2m"


@pytest.fixture
def monday() -> datetime:
    return datetime(2026, 1, 5, tzinfo=UTC)


@pytest.fixture
def typical_home() -> SimulatedHome:
    return SimulatedHome("hh-test", persona("typical"), seed=42)
