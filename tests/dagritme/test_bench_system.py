"""`dagritme bench system --quick`: processes, a real mosquitto, and the figures it reports."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import psutil

from dagritme.bench_system import QUICK, measure, simulated_homes, write_configs
from dagritme.config import load_config
from detector.config import DetectorConfig
from gateway.config import GatewayConfig
from store.config import StoreConfig


def test_generated_configs_load_as_the_services_load_them(tmp_path: Path) -> None:
    _, homes = simulated_homes(2, seed=3, day=date(2026, 11, 24), day_s=4.0)
    write_configs("mqtt://127.0.0.1:1883", homes, tmp_path, speed=21_600.0)

    gateway = load_config(tmp_path / f"gateway-{homes[0].household}.toml", GatewayConfig)
    detector = load_config(tmp_path / "detector.toml", DetectorConfig)
    store = load_config(tmp_path / "store.toml", StoreConfig)

    assert gateway.household == homes[0].household
    assert [d.friendly_name for d in gateway.devices] == [d.friendly_name for d in homes[0].devices]
    assert gateway.base_topic == f"z2m-{homes[0].household}"
    assert gateway.max_clock_skew_s == 300.0 * 21_600.0
    assert detector.broker.url == "mqtt://127.0.0.1:1883"
    assert store.store.backend == "sqlite"
    assert store.store.sqlite.path == tmp_path / "events.sqlite"


def test_quick_run_carries_every_event_once_and_notifies_night_doors() -> None:
    figures = measure(argparse.Namespace(quick=True))

    assert figures["households"] == QUICK.households
    assert figures["events_expected"] > 0
    assert figures["lost"] == 0
    assert figures["duplicates"] == 0
    assert figures["paced_lost"] == 0
    assert figures["paced_duplicates"] == 0
    assert figures["events_per_s"] > 0
    assert figures["paced_events_per_s"] > 0
    assert figures["store_missing"] == 0
    assert figures["events_stored"] >= figures["events_expected"]
    assert 0 < figures["p50_ms"] <= figures["p99_ms"]
    assert figures["night_door_alerts"] == figures["night_door_homes"] == 2
    assert figures["night_door_notified"] == 2
    assert figures["night_door_notify_p50_ms"] is not None
    assert not figures["failed"]
    # Every gateway, detector, store, simulator and broker process has been stopped.
    assert [p for p in psutil.Process().children(recursive=True) if p.is_running()] == []
