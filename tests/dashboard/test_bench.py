"""The overview benchmark runs end to end (quick mode) and reports its figures."""

from __future__ import annotations

import argparse

import pytest

from dashboard.bench import measure

pytestmark = pytest.mark.integration


def test_quick_benchmark_reports_latencies() -> None:
    figures = measure(argparse.Namespace(quick=True, json=True))
    assert figures["households"] == 1000
    assert figures["requests"] == 30
    assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
    assert figures["html_p95_ms"] > 0
    assert figures["alert_to_notification_lost"] == 0
    assert figures["alert_to_notification_max_ms"] < 2000
