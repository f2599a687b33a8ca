"""`dagritme bench store --quick` runs end to end and reports the contract's keys."""

from __future__ import annotations

import argparse

from store.bench import measure


def test_quick_bench_reports_both_backends() -> None:
    figures = measure(argparse.Namespace(target="store", json=True, quick=True))
    for key in ("events_per_s", "influx_events_per_s", "sqlite_events_per_s"):
        assert figures[key] > 0
    assert figures["events_per_s"] == figures["influx_events_per_s"]
    assert figures["influx_heatmap_ms"] > 0
    assert figures["sqlite_heatmap_ms"] > 0
    # Both backends answered the same heatmap from the same data.
    assert figures["influx_heatmap_buckets"] == figures["sqlite_heatmap_buckets"] > 0
