"""The load generator: worker processes render exactly what the home renders in-process."""

from __future__ import annotations

import doctest
from datetime import UTC, date, datetime, timedelta

import firmware_sim
import firmware_sim.scenarios
from firmware_sim.fleet import make_homes
from firmware_sim.load import FleetRenderer, encode, measure_generation, z2m_topic

START = datetime(2026, 1, 7, 5, tzinfo=UTC)


async def test_processes_render_the_same_wire_as_one_thread() -> None:
    homes = make_homes(6, first_day=date(2026, 1, 5), days=4, personas=["sparse", "dense"])
    bases = [f"z2m-{h.household}" for h in homes]
    end = START + timedelta(hours=3)
    with FleetRenderer(homes, bases, workers=0) as local:
        in_thread = await local.render(START, end)
    with FleetRenderer(homes, bases, workers=2) as pool:
        in_processes = await pool.render(START, end)
        assert await pool.count(START, end) == (
            len(in_processes),
            sum(len(h.state_changes(START, end)) for h in homes),
        )
    assert in_processes == in_thread
    assert [w[0] for w in in_thread] == sorted(w[0] for w in in_thread)
    expected = sorted(
        (m.ts.timestamp(), z2m_topic(base, m.topic_suffix), encode(m, True), m.retain)
        for home, base in zip(homes, bases, strict=True)
        for m in home.messages(START, end)
    )
    assert sorted(in_thread) == expected


async def test_generation_figures_add_up() -> None:
    homes = make_homes(4, first_day=date(2026, 1, 5), days=2)
    figures = await measure_generation(homes, START, 0.5, workers=0)
    assert figures.households == 4
    assert figures.messages > figures.events > 0
    assert figures.as_dict()["messages_per_s"] > 0


def test_doctests() -> None:
    for module in (firmware_sim, firmware_sim.scenarios):
        result = doctest.testmod(module)
        assert result.attempted > 0
        assert result.failed == 0
