"""Bedtime and rising against the activity labels of a real, annotated home."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dagritme.dataset import Dataset, RawLine
from detector.annotations import annotated_nights, compare_with_annotations
from detector.config import DetectorConfig
from detector.core import Detector
from detector.replay import replay_events
from detector.state import HouseholdState


def _line(at: str, label: str) -> RawLine:
    return RawLine(0, datetime.fromisoformat(at), "Bedroom", "ON", label)


def test_the_night_is_read_from_sleep_and_wake_up_labels() -> None:
    lines = [
        _line("2011-06-15 21:10", "Relax"),
        _line("2011-06-15 22:50", "Sleep"),  # bedtime of the 15th
        _line("2011-06-16 02:30", "Wake_Up"),  # a night waking: not the rising
        _line("2011-06-16 02:40", "Sleep"),
        _line("2011-06-16 07:55", "Wake_Up"),  # rising of the 16th
        _line("2011-06-16 08:05", "Cook_Breakfast"),
        _line("2011-06-16 14:00", "Sleep"),  # an afternoon nap is neither
    ]
    bedtimes, risings = annotated_nights(lines)
    assert {d.isoformat(): t.strftime("%H:%M") for d, t in bedtimes.items()} == {
        "2011-06-15": "22:50"
    }
    assert {d.isoformat(): t.strftime("%H:%M") for d, t in risings.items()} == {
        "2011-06-16": "07:55"
    }


def test_learned_nights_agree_with_the_annotated_casas_home(datasets_dir: Path) -> None:
    folder = datasets_dir / "casas-al-smarthome"
    dataset = Dataset.load(folder)
    detector = Detector(DetectorConfig(default_timezone="UTC"))  # the lines' wall clock
    for _ in replay_events(detector, dataset.events("al", ZoneInfo("UTC"))):
        pass
    state = HouseholdState.restore("al", detector.snapshot("al"))
    agreement = compare_with_annotations(dataset.lines, state)
    assert agreement is not None
    bedtime, rising = agreement["bedtime"], agreement["rising"]
    assert bedtime["compared"] >= 25
    assert bedtime["within_15_min"] >= 0.9 * bedtime["compared"]
    # the rising is the first activity outside the bed and bath rooms, so after the last
    # annotated waking; on a few days the resident was up early and went back to bed
    assert rising["compared"] >= 25
    assert 0 <= rising["median_diff_min"] <= 20
    assert rising["within_30_min"] >= 0.8 * rising["compared"]


def test_a_dataset_without_labels_has_nothing_to_compare(datasets_dir: Path) -> None:
    dataset = Dataset.load(datasets_dir / "casas-tm000")
    assert compare_with_annotations(dataset.lines, HouseholdState("tm")) is None
