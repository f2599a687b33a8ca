"""`dagritme simulate` end to end: datasets on disk, a real broker, config validation."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dagritme.cli import main
from dagritme.dataset import Dataset
from dagritme.mqtt import BrokerSettings


def test_out_writes_replayable_datasets_and_ground_truth(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    code = main(
        ["simulate", "--households", "2", "--days", "7", "--seed", "3",
         "--scenario", "fall@6T10:30", "--scenario", "night_wandering@4T02:30", "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    truth = [json.loads(line) for line in (out / "ground_truth.jsonl").read_text().splitlines()]
    assert len(truth) == 4
    assert {t["expected_alert"] for t in truth} == {"inactivity", "night_door"}
    for household in ("sim-00001", "sim-00002"):
        dataset = Dataset.load(out / household)
        events = list(dataset.events(household, ZoneInfo("Europe/Amsterdam")))
        assert len(events) > 7 * 40
        assert events[0].ts.date().isoformat() == "2026-01-04"  # local midnight is 23:00 UTC
        assert (events[-1].ts - events[0].ts).days == 6


def test_same_seed_same_files(tmp_path: Path) -> None:
    args = ["simulate", "--days", "3", "--seed", "9", "--scenario", "not_up@2"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    for name in ("sim-00001/events.txt", "sim-00001/sensors.csv", "ground_truth.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert main(["simulate", "--days", "3", "--seed", "10", "--out", str(tmp_path / "c")]) == 0
    events = "sim-00001/events.txt"
    assert (tmp_path / "a" / events).read_bytes() != (tmp_path / "c" / events).read_bytes()


def test_validate_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.toml"
    good.write_text('households = 4\nscenarios = ["fall@2T10:00"]\n[noise]\ndrop_p = 0.01\n')
    assert main(["simulate", "--config", str(good), "--validate-config"]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'households = 0\nscenarios = ["flal"]\ntimezone = "Mars/Base"\n[noise]\ndrops = 1\n'
    )
    assert main(["simulate", "--config", str(bad), "--validate-config"]) == 2
    err = capsys.readouterr().err
    assert "households" in err
    assert "scenarios" in err
    assert "noise.drops" in err
    assert "Mars/Base" in err


def test_needs_exactly_one_target(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--days", "1"]) == 2
    assert "--mqtt" in capsys.readouterr().err


@pytest.mark.integration
def test_mqtt_target_publishes(
    broker: BrokerSettings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = tmp_path / "truth.jsonl"
    code = main(
        ["simulate", "--households", "2", "--days", "0.05", "--speed", "20000",
         "--scenario", "visitors@0T12:00", "--ground-truth", str(truth), "--mqtt", broker.url]
    )  # fmt: skip
    assert code == 0
    assert "published" in capsys.readouterr().out
    assert len(truth.read_text().splitlines()) == 2


def test_bench_prints_generation_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--households", "3", "--days", "0.5", "--bench"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["households"] == 3
    assert figures["messages"] > figures["events"] > 0
