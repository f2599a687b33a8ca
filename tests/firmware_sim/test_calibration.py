"""The simulated residents against the real CASAS homes, within stated tolerances.

Writes the comparison as markdown to test-artifacts/simulator_calibration.md for the README.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dagritme.dataset import Dataset
from firmware_sim.calibration import CALIBRATION_PAIRS, Calibration, calibrate, profile

_results: dict[str, Calibration] = {}


@pytest.mark.parametrize("dataset", sorted(CALIBRATION_PAIRS))
def test_simulated_resident_matches_the_real_home(
    dataset: str, datasets_dir: Path, artifacts_dir: Path
) -> None:
    result = calibrate(datasets_dir / dataset, CALIBRATION_PAIRS[dataset])
    _results[dataset] = result
    report = artifacts_dir / "simulator_calibration.md"
    report.write_text(
        "## Simulator calibration\n\n"
        + "\n".join(_results[name].markdown() for name in sorted(_results))
    )
    failed = [c for c in result.checks if not c.ok]
    assert result.checks
    assert not failed, result.markdown()


def test_profile_sees_the_absence_days_of_tm000(datasets_dir: Path) -> None:
    tz = ZoneInfo("Europe/Amsterdam")
    events = list(Dataset.load(datasets_dir / "casas-tm000").events("tm", tz))
    days = {e.ts.astimezone(tz).date() for e in events}
    figures = profile(events, tz)
    assert len(days) == 7
    assert figures.days == 5, "the two days of the real absence are not routine days"
    assert 5 <= figures.rising_median_h <= 8
