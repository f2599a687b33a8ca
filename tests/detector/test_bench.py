from __future__ import annotations

import argparse

from detector.bench import measure


def test_quick_bench_reports_every_figure() -> None:
    figures = measure(argparse.Namespace(quick=True, json=True))
    assert figures["events_per_s"] > 0
    assert 0 < figures["state_bytes_per_household"] <= 65_536
    assert figures["tick_s_10k_households"] > 0
    assert figures["p50_ms"] <= figures["p99_ms"]
    assert figures["failed"] is False
