"""`dagritme bench detector --json`: throughput, state size, tick cost, replay wall time.

Figures: `events_per_s` (observe: learn + score + event rules, one core),
`events_per_s_with_ticks` (the same stream with a tick every minute of data time),
`p50_ms`/`p99_ms` (per-event observe latency), `state_bytes_per_household` (checkpoint blob
after 30 days), `tick_s_10k_households` (one tick over 10,000 learned households) and
`tick_rollover_s_10k_households` (the tick at local midnight: every home closes its day and
up to 500 recompute their norms, the rest on the following ticks),
`replay_s` (`dagritme replay` of casas-al-smarthome in a fresh process, start-up included).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time as walltime
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from dagritme.models import Event
from detector.config import DetectorConfig
from detector.core import Detector
from detector.replay import replay_events
from detector.synthetic import SyntheticHome

REAL_HOME = "casas-al-smarthome"
REAL_TZ = "America/Los_Angeles"


def find_datasets() -> Path | None:
    env = os.environ.get("DAGRITME_DATASETS")
    candidates = [Path(env)] if env else []
    repo = Path(__file__).resolve().parent.parent
    candidates.append(repo.parent / "shared" / "datasets")
    return next((c for c in candidates if (c / REAL_HOME).is_dir()), None)


def _events(days: int) -> list[Event]:
    home = SyntheticHome("bench-home", ZoneInfo("Europe/Amsterdam"), seed=1)
    # a dense home: several synthetic residents' worth of events interleaved in one stream
    return list(home.events(date(2026, 1, 5), days))


def _throughput(events: list[Event]) -> dict[str, float]:
    detector = Detector(DetectorConfig())
    latencies = np.empty(len(events), dtype=np.float64)
    perf = walltime.perf_counter
    started = perf()
    for i, event in enumerate(events):
        t0 = perf()
        detector.observe(event)
        latencies[i] = perf() - t0
    observe_s = perf() - started
    detector = Detector(DetectorConfig())
    started = perf()
    for _ in replay_events(detector, events):
        pass
    with_ticks_s = perf() - started
    return {
        "events": float(len(events)),
        "events_per_s": round(len(events) / observe_s),
        "events_per_s_with_ticks": round(len(events) / with_ticks_s),
        "p50_ms": round(float(np.percentile(latencies, 50)) * 1000, 4),
        "p99_ms": round(float(np.percentile(latencies, 99)) * 1000, 4),
    }


def _ticks(blob: bytes, households: int, at: datetime) -> dict[str, float]:
    config = DetectorConfig()
    detector = Detector(config)
    for i in range(households):
        detector.restore(f"hh-{i:05d}", blob)
    tz = config.timezone_for("hh-00000")
    local = at.astimezone(tz)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(), tzinfo=tz)
    first = midnight - timedelta(minutes=30)
    detector.tick(first)  # brings every household to the same local day
    perf = walltime.perf_counter
    started = perf()
    detector.tick(first + timedelta(minutes=1))
    tick_s = perf() - started
    started = perf()
    detector.tick(midnight.astimezone(UTC))  # the day rollover: every norm is recomputed
    rollover_s = perf() - started
    return {
        "tick_s_10k_households": round(tick_s, 4),
        "tick_rollover_s_10k_households": round(rollover_s, 4),
    }


def _replay_wall(datasets: Path) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            sys.executable,
            "-m",
            "dagritme.cli",
            "replay",
            str(datasets / REAL_HOME),
            "--alerts-out",
            str(Path(tmp) / "alerts.jsonl"),
            "--timezone",
            REAL_TZ,
        ]
        started = walltime.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        return round(walltime.perf_counter() - started, 3)


def configure(parser: argparse.ArgumentParser) -> None:
    """Options come from `dagritme bench` (--json, --quick)."""


def measure(args: argparse.Namespace) -> dict[str, Any]:
    quick = bool(getattr(args, "quick", False))
    figures: dict[str, Any] = {}
    datasets = find_datasets()
    if datasets is not None:
        from dagritme.dataset import Dataset

        events = list(Dataset.load(datasets / REAL_HOME).events(REAL_HOME, ZoneInfo(REAL_TZ)))
        figures["events_source"] = REAL_HOME
    else:
        events = _events(30)
        figures["events_source"] = "synthetic"
    if quick:
        events = events[: len(events) // 5]
    figures.update(_throughput(events))

    detector = Detector(DetectorConfig())
    for _ in replay_events(detector, events):
        pass
    household = events[0].household
    blob = detector.snapshot(household)
    figures["state_bytes_per_household"] = len(blob)
    figures.update(_ticks(blob, 1000 if quick else 10_000, events[-1].ts + timedelta(minutes=1)))
    if quick:
        figures["tick_households"] = 1000
    if datasets is not None and not quick:
        figures["replay_s"] = _replay_wall(datasets)
    else:
        figures["replay_s"] = None
    figures["failed"] = bool(
        figures["state_bytes_per_household"] > 65_536
        or (not quick and figures["events_per_s"] < 20_000)
    )
    return figures
