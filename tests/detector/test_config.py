from __future__ import annotations

from pathlib import Path

import pytest

from dagritme.cli import main


def test_validate_config_accepts_a_good_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "detector.toml"
    path.write_text(
        'default_timezone = "Europe/Amsterdam"\ntick_interval_s = 1\n'
        '[timezones]\nhh-1 = "Europe/Brussels"\n[thresholds]\nlearning_days = 7\n'
    )
    assert main(["detector", "--config", str(path), "--validate-config"]) == 0


def test_validate_config_names_the_location_of_each_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "detector.toml"
    path.write_text(
        'default_timezone = "Mars/Olympus"\n[thresholds]\nlearning_dayz = 7\n'
        '[broker]\nurl = "http://nope"\n'
    )
    assert main(["detector", "--config", str(path), "--validate-config"]) == 2
    err = capsys.readouterr().err
    assert "default_timezone" in err
    assert "thresholds.learning_dayz" in err
    assert "broker.url" in err
