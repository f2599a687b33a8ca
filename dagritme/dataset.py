"""Reader and writer of the dataset format of DESIGN.md (the CASAS line format).

A dataset is a folder with `events.txt` (`YYYY-MM-DD HH:MM:SS[.ffffff] SENSOR VALUE`, or
`date time AREA SENSOR VALUE LABEL`, extra columns ignored) and `sensors.csv`
(`sensor,kind,room`). Timestamps in `events.txt` are the home's local wall-clock time.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dagritme.models import Event, Kind, Room, Value, make_event_id

EVENTS_FILE = "events.txt"
SENSORS_FILE = "sensors.csv"

_RAW_VALUES = {"ON", "OFF", "OPEN", "CLOSE", "CLOSED"}
_ACTIVE_RAW = {"ON", "OPEN"}


class DatasetError(ValueError):
    """A dataset that cannot be read; names the file and line."""

    def __init__(self, path: Path, line: int | None, reason: str) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SensorInfo:
    sensor: str
    kind: Kind
    room: Room


@dataclass(frozen=True, slots=True)
class RawLine:
    """One parsed line of events.txt, still in local wall-clock time."""

    line: int
    local_ts: datetime  # naive, the home's wall clock
    sensor: str
    raw_value: str
    label: str = ""  # the activity label after the value, when the dataset has one (CASAS)


def read_sensors(folder: Path) -> dict[str, SensorInfo]:
    path = folder / SENSORS_FILE
    if not path.is_file():
        raise DatasetError(path, None, "missing sensors.csv")
    sensors: dict[str, SensorInfo] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or [f.strip() for f in reader.fieldnames][:3] != [
            "sensor",
            "kind",
            "room",
        ]:
            raise DatasetError(path, 1, "header must be 'sensor,kind,room'")
        for row in reader:
            lineno = reader.line_num
            try:
                info = SensorInfo(
                    row["sensor"].strip(), Kind(row["kind"].strip()), Room(row["room"].strip())
                )
            except (ValueError, AttributeError) as err:
                raise DatasetError(path, lineno, f"bad sensor row {row!r}: {err}") from err
            sensors[info.sensor] = info
    if not sensors:
        raise DatasetError(path, None, "no sensors listed")
    return sensors


def _parse_ts(date: str, time: str) -> datetime:
    return datetime.fromisoformat(f"{date} {time}")


def parse_line(
    text: str, lineno: int, sensors: dict[str, SensorInfo], path: Path
) -> RawLine | None:
    """Parse one events.txt line; None for blank lines; DatasetError when malformed."""
    tokens = text.split()
    if not tokens:
        return None
    if len(tokens) < 4:
        raise DatasetError(path, lineno, f"expected 'date time SENSOR VALUE', got {text.strip()!r}")
    try:
        local_ts = _parse_ts(tokens[0], tokens[1])
    except ValueError as err:
        raise DatasetError(path, lineno, f"bad timestamp {tokens[0]} {tokens[1]!r}") from err
    if local_ts.tzinfo is not None:
        raise DatasetError(path, lineno, "timestamps must be local wall-clock time, no offset")
    if tokens[3].upper() in _RAW_VALUES:
        names, raw_value, rest = [tokens[2]], tokens[3].upper(), tokens[4:]
    elif len(tokens) >= 5 and tokens[4].upper() in _RAW_VALUES:
        names, raw_value, rest = [tokens[3], tokens[2]], tokens[4].upper(), tokens[5:]
    else:
        raise DatasetError(path, lineno, f"no ON/OFF/OPEN/CLOSE value in {text.strip()!r}")
    sensor = next((name for name in names if name in sensors), None)
    if sensor is None:
        raise DatasetError(path, lineno, f"sensor {' / '.join(names)} is not in sensors.csv")
    return RawLine(lineno, local_ts, sensor, raw_value, rest[0] if rest else "")


def to_value(kind: Kind, raw_value: str) -> Value:
    active = raw_value in _ACTIVE_RAW
    if kind is Kind.DOOR:
        return Value.OPEN if active else Value.CLOSED
    return Value.ON if active else Value.OFF


def read_lines(folder: Path, sensors: dict[str, SensorInfo]) -> list[RawLine]:
    path = folder / EVENTS_FILE
    if not path.is_file():
        raise DatasetError(path, None, "missing events.txt")
    lines: list[RawLine] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, text in enumerate(fh, start=1):
            parsed = parse_line(text, lineno, sensors, path)
            if parsed is not None:
                lines.append(parsed)
    lines.sort(key=lambda raw: raw.local_ts)  # stable: equal times keep file order
    return lines


def to_utc(local_ts: datetime, tz: ZoneInfo) -> datetime:
    """Local wall clock -> UTC; in the repeated hour of a DST change the first one is taken."""
    return local_ts.replace(tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Dataset:
    folder: Path
    sensors: dict[str, SensorInfo]
    lines: list[RawLine]

    @classmethod
    def load(cls, folder: Path) -> Dataset:
        sensors = read_sensors(folder)
        return cls(folder, sensors, read_lines(folder, sensors))

    def events(self, household: str, tz: ZoneInfo) -> Iterator[Event]:
        """The dataset as canonical events, in time order."""
        for seq, raw in enumerate(self.lines):
            info = self.sensors[raw.sensor]
            ts = to_utc(raw.local_ts, tz)
            value = to_value(info.kind, raw.raw_value)
            yield Event(
                event_id=make_event_id(household, info.sensor, ts, f"{value}:{raw.line}"),
                household=household,
                sensor=info.sensor,
                kind=info.kind,
                room=info.room,
                value=value,
                ts=ts,
                seq=seq,
            )


def raw_value_for(value: Value) -> str:
    return {Value.ON: "ON", Value.OFF: "OFF", Value.OPEN: "OPEN", Value.CLOSED: "CLOSE"}[value]


def write_dataset(
    folder: Path, sensors: Iterable[SensorInfo], events: Iterable[Event], tz: ZoneInfo
) -> int:
    """Write events (any order) as a dataset folder in local wall-clock time; returns the count."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / SENSORS_FILE).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["sensor", "kind", "room"])
        for info in sensors:
            writer.writerow([info.sensor, info.kind.value, info.room.value])
    ordered = sorted(events, key=lambda e: e.ts)
    with (folder / EVENTS_FILE).open("w", encoding="utf-8") as fh:
        for event in ordered:
            local = event.ts.astimezone(tz).replace(tzinfo=None)
            fh.write(
                f"{local.isoformat(sep=' ', timespec='microseconds')} {event.sensor} "
                f"{raw_value_for(event.value)}\n"
            )
    return len(ordered)
