"""A tiny run of the gateway benchmark: the measuring code itself must count right."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.bench import _run

pytestmark = pytest.mark.integration


async def test_small_benchmark_run_loses_nothing(tmp_path: Path) -> None:
    figures = await _run(400, tmp_path, paced_events=100, paced_rate=500)
    assert figures["lost"] == 0
    assert figures["duplicates"] == 0
    assert figures["events_per_s"] > 0
    assert 0 < figures["p50_ms"] <= figures["p99_ms"]
    assert 0 < figures["rss_mb"] <= 80
