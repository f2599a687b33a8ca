from __future__ import annotations

import json
from pathlib import Path

import pytest

from dagritme.cli import main


def test_evaluate_reports_both_detectors_side_by_side(
    datasets_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "evaluate",
            str(datasets_dir / "casas-al-smarthome"),
            str(datasets_dir / "casas-tm000"),
            "--seed",
            "3",
            "--injections",
            "4",
            "--json",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    home = report["datasets"]["casas-al-smarthome"]
    assert home["learned_from"] is not None
    assert home["injected_during_cold_start"] is False
    for who in ("detector", "baseline"):
        assert home[who]["false_alarms"]["per_30_days"] is not None
        for scenario in ("fall", "missing_morning", "night_door"):
            stats = home[who][scenario]
            assert stats["injected"] == 4
    learned, fixed = home["detector"]["fall"], home["baseline"]["fall"]
    assert learned["detection_rate"] >= fixed["detection_rate"]
    assert learned["median_min"] < fixed["median_min"], "learning beats the fixed 12 h rule"
    # the home without a front-door sensor cannot have a night-door scenario
    assert report["datasets"]["casas-tm000"]["detector"]["night_door"] is None


def test_evaluate_is_reproducible_with_a_seed(
    datasets_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["evaluate", str(datasets_dir / "casas-tm000"), "--seed", "9", "--injections", "3"]
    assert main([*args, "--json"]) == 0
    first = capsys.readouterr().out
    assert main([*args, "--json"]) == 0
    assert capsys.readouterr().out == first
