from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dagritme.dataset import Dataset, DatasetError, SensorInfo, write_dataset
from dagritme.models import Kind, Room, Value

SENSORS = "sensor,kind,room\nFrontDoor,door,entrance\nEntry,motion,entrance\nLamp,contact,living\n"


def _dataset(tmp_path: Path, events: str, sensors: str = SENSORS) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "sensors.csv").write_text(sensors)
    (tmp_path / "events.txt").write_text(events)
    return tmp_path


def test_reads_both_casas_line_shapes_and_quirks(tmp_path: Path) -> None:
    folder = _dataset(
        tmp_path,
        "2011-06-15 01:03:39.14962 OutsideDoor FrontDoor OPEN Leave\n"
        "2011-06-15 01:03:41 OutsideDoor FrontDoor CLOSE Leave\n"
        "\n"
        "2011-06-15 01:03:40.2\tEntry\tON\t\n"
        "2011-06-15 01:04:00 Lamp OPEN\n",
    )
    events = list(Dataset.load(folder).events("hh", ZoneInfo("UTC")))
    assert [(e.sensor, e.value) for e in events] == [
        ("FrontDoor", Value.OPEN),
        ("Entry", Value.ON),
        ("FrontDoor", Value.CLOSED),
        ("Lamp", Value.ON),
    ]
    assert events[0].ts == datetime(2011, 6, 15, 1, 3, 39, 149620, tzinfo=UTC)
    assert len({e.event_id for e in events}) == 4
    # the activity label is kept for evaluation, and only there: events do not carry it
    labels = [(line.sensor, line.label) for line in Dataset.load(folder).lines]
    assert labels == [("FrontDoor", "Leave"), ("Entry", ""), ("FrontDoor", "Leave"), ("Lamp", "")]


def test_local_time_is_converted_with_the_home_time_zone(tmp_path: Path) -> None:
    folder = _dataset(tmp_path, "2026-07-01 09:00:00 Entry ON\n")
    (event,) = Dataset.load(folder).events("hh", ZoneInfo("Europe/Amsterdam"))
    assert event.ts == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("2011-06-15 Entry ON", "expected 'date time SENSOR VALUE'"),
        ("2011-13-15 01:00:00 Entry ON", "bad timestamp"),
        ("2011-06-15 01:00:00 Entry MAYBE", "no ON/OFF/OPEN/CLOSE value"),
        ("2011-06-15 01:00:00 Attic ON", "not in sensors.csv"),
    ],
)
def test_malformed_lines_get_a_line_numbered_error(tmp_path: Path, line: str, reason: str) -> None:
    folder = _dataset(tmp_path, f"2011-06-15 01:00:00 Entry ON\n{line}\n")
    with pytest.raises(DatasetError, match=reason) as info:
        Dataset.load(folder)
    assert info.value.line == 2
    assert "events.txt:2" in str(info.value)


def test_bad_sensors_csv_is_refused(tmp_path: Path) -> None:
    folder = _dataset(tmp_path, "", sensors="sensor,kind,room\nX,radar,kitchen\n")
    with pytest.raises(DatasetError, match="sensors.csv:2"):
        Dataset.load(folder)


def test_written_dataset_reads_back(tmp_path: Path) -> None:
    folder = _dataset(
        tmp_path / "in", "2026-01-05 07:12:00.5 Entry ON\n2026-01-05 07:13:00 FrontDoor OPEN\n"
    )
    tz = ZoneInfo("Europe/Amsterdam")
    original = Dataset.load(folder)
    events = list(original.events("hh", tz))
    write_dataset(tmp_path / "out", original.sensors.values(), events, tz)
    again = list(Dataset.load(tmp_path / "out").events("hh", tz))
    assert [(e.sensor, e.value, e.ts) for e in again] == [(e.sensor, e.value, e.ts) for e in events]


@pytest.mark.parametrize(("name", "count"), [("casas-al-smarthome", 61578), ("casas-tm000", 21968)])
def test_real_datasets_load_completely(datasets_dir: Path, name: str, count: int) -> None:
    dataset = Dataset.load(datasets_dir / name)
    assert len(dataset.lines) == count
    kinds = {dataset.sensors[line.sensor].kind for line in dataset.lines}
    assert Kind.MOTION in kinds
    exterior = [
        s for s in dataset.sensors.values() if s.kind is Kind.DOOR and s.room is Room.ENTRANCE
    ]
    assert len(exterior) == (1 if name == "casas-al-smarthome" else 0)
    assert isinstance(next(iter(dataset.sensors.values())), SensorInfo)
