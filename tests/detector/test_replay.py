from __future__ import annotations

import json
import time
from pathlib import Path

from dagritme.cli import main
from dagritme.dataset import write_dataset
from detector.synthetic import SENSORS, SyntheticHome
from tests.detector.helpers import AMSTERDAM, START

REQUIRED = {"ts", "household", "type", "severity", "message"}


def _records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_replay_of_the_30_day_casas_home_is_quick_and_quiet(
    datasets_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "alerts.jsonl"
    started = time.perf_counter()
    code = main(
        [
            "replay",
            str(datasets_dir / "casas-al-smarthome"),
            "--alerts-out",
            str(out),
            "--timezone",
            "America/Los_Angeles",
        ]
    )
    elapsed = time.perf_counter() - started
    assert code == 0
    assert elapsed < 15
    records = _records(out)
    # 30 ordinary days of one resident: at most a handful of alerts, none of them technical
    assert len(records) <= 3
    for record in records:
        assert REQUIRED <= record.keys()
        assert record["household"] == "casas-al-smarthome"


def test_replay_of_the_absence_home_reports_not_returned_not_inactivity(
    datasets_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "alerts.jsonl"
    code = main(
        [
            "replay",
            str(datasets_dir / "casas-tm000"),
            "--alerts-out",
            str(out),
            "--household",
            "tm000",
            "--timezone",
            "America/Los_Angeles",
        ]
    )
    assert code == 0
    records = _records(out)
    types = [r["type"] for r in records]
    assert "not_returned" in types, "the real multi-day absence is noticed"
    assert "inactivity" not in types, "being out is not a silence at home"
    first = next(r for r in records if r["type"] == "not_returned")
    # data time in the home's zone, same clock as the input (2016-07-13, 12 h after 07:21)
    assert str(first["ts"]).startswith("2016-07-13T19:2")
    assert str(first["ts"]).endswith("-07:00")
    assert first["household"] == "tm000"


def test_replay_fires_time_checks_between_events(tmp_path: Path) -> None:
    home = SyntheticHome("synthetic", AMSTERDAM, seed=2)
    events = list(home.events(START, 15))
    cut_from = events[-1].ts.replace(hour=13, minute=0)  # last day, 14:00 local
    kept = [e for e in events if e.ts < cut_from]
    kept.append(events[-1])  # one late event ends the silence, hours later
    folder = tmp_path / "synthetic"
    write_dataset(folder, SENSORS, kept, AMSTERDAM)
    out = tmp_path / "alerts.jsonl"
    assert (
        main(["replay", str(folder), "--alerts-out", str(out), "--timezone", "Europe/Amsterdam"])
        == 0
    )
    inactivity = [r for r in _records(out) if r["type"] == "inactivity"]
    assert len(inactivity) == 1
    raised = str(inactivity[0]["ts"])
    assert raised.endswith("+01:00")
    assert "T14:" in raised or "T15:" in raised or "T16:" in raised


def test_replay_rejects_a_bad_dataset_with_its_location(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "sensors.csv").write_text("sensor,kind,room\nA,motion,kitchen\n")
    (folder / "events.txt").write_text("2026-01-01 10:00:00 A ON\n2026-01-01 nonsense B ON\n")
    assert main(["replay", str(folder), "--alerts-out", str(tmp_path / "x.jsonl")]) == 2
