from __future__ import annotations

import json
from pathlib import Path

import pytest

from dagritme.cli import main
from detector.evaluate import report_keys


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


def test_the_learning_period_can_be_scored_on_its_own(
    datasets_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = str(datasets_dir / "casas-al-smarthome")
    args = ["evaluate", folder, "--seed", "1", "--injections", "6", "--json", "--learning-period"]
    assert main(args) == 0
    home = json.loads(capsys.readouterr().out)["datasets"]["casas-al-smarthome"]
    assert home["injected_during_cold_start"] is True
    # from the first event to the end of the 7-day learning period
    assert 6 <= home["false_alarm_days"] <= 7.5
    assert home["detector"]["false_alarms"]["count"] == 0
    pulled = home["detector"]["missing_morning"]
    assert pulled["detected"] == pulled["injected"] > 0
    # the same days with the risings seen so far ignored (the 11:00 default throughout)
    config = tmp_path / "detector.toml"
    config.write_text("[thresholds]\nnot_up_cold_start_min_risings = 30\n")
    assert main([*args, "--config", str(config)]) == 0
    report = json.loads(capsys.readouterr().out)
    default = report["datasets"]["casas-al-smarthome"]["detector"]["missing_morning"]
    assert pulled["median_min"] <= default["median_min"]
    assert pulled["p90_min"] < default["p90_min"]


def test_homes_of_two_runs_with_the_same_name_are_both_reported() -> None:
    first, second, other = Path("run1/sim-00001"), Path("run2/sim-00001"), Path("run1/x")
    keys = report_keys([first, second, other])
    assert keys == {"run1/sim-00001": first, "run2/sim-00001": second, "x": other}
