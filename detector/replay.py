"""`dagritme replay DATASET_DIR --alerts-out FILE.jsonl`: a dataset through the detector core.

Events are fed in time order on a simulated clock that ticks every minute of data time,
also between events, so time-based checks fire at data time exactly as in the live service.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dagritme.clock import ManualClock, floor_to
from dagritme.config import ConfigError, load_config
from dagritme.dataset import Dataset, DatasetError
from dagritme.models import Alert, AlertStatus, Event
from detector.config import DetectorConfig
from detector.core import Detector

logger = logging.getLogger(__name__)

TICK_STEP = timedelta(minutes=1)


def input_error(command: str, err: Exception, *kinds: tuple[type[Exception], str]) -> int:
    """Print a bad-input error of a dataset command with what kind of input it was; exit 2.

    ConfigError and DatasetError (and the `kinds` a command adds) are ValueErrors whose
    message already names the file and line.
    """
    known = ((ConfigError, "config"), (DatasetError, "dataset"), *kinds)
    kind = next((name for error_type, name in known if isinstance(err, error_type)), "input")
    print(f"{command}: {kind}: {err}", file=sys.stderr)
    return 2


class AlertSource(Protocol):
    """What replay drives: the detector core, or the fixed-rule baseline."""

    def observe(self, event: Event) -> list[Alert]: ...

    def tick(self, now: datetime) -> list[Alert]: ...


class Replayer:
    """A simulated clock over an event stream: ticks every `step` of data time up to each
    event, then the event. `next_tick` can be saved and given back to resume a replay."""

    def __init__(
        self,
        source: AlertSource,
        *,
        step: timedelta = TICK_STEP,
        clock: ManualClock | None = None,
        next_tick: datetime | None = None,
    ) -> None:
        self.source = source
        self.step = step
        self.clock = clock
        self.next_tick = next_tick

    def advance(self, until: datetime) -> Iterator[Alert]:
        """Every tick due at or before `until`."""
        if self.next_tick is None:
            self.next_tick = floor_to(until, self.step) + self.step
        while self.next_tick <= until:
            if self.clock is not None:
                self.clock.set(self.next_tick)
            yield from self.source.tick(self.next_tick)
            self.next_tick += self.step

    def feed(self, event: Event) -> Iterator[Alert]:
        yield from self.advance(event.ts)
        if self.clock is not None and event.ts > self.clock.now():
            self.clock.set(event.ts)
        yield from self.source.observe(event)


def replay_events(
    source: AlertSource,
    events: Iterable[Event],
    *,
    step: timedelta = TICK_STEP,
    clock: ManualClock | None = None,
    until: datetime | None = None,
) -> Iterator[Alert]:
    """Feed events in order, ticking every `step` of data time before each event.

    `clock` (optional) is advanced to each tick and event, for callers that share it.
    Yields every alert the core returns (opened and auto-resolved).
    """
    replayer = Replayer(source, step=step, clock=clock)
    for event in events:
        yield from replayer.feed(event)
    if until is not None and replayer.next_tick is not None:
        yield from replayer.advance(until)


def household_from_folder(folder: Path) -> str:
    """A valid pseudonymous id from a folder name ('casas-al-smarthome')."""
    name = re.sub(r"[^a-z0-9_-]+", "-", folder.resolve().name.lower()).strip("-_")
    return (name or "household")[:64]


def alert_record(alert: Alert, tz: ZoneInfo) -> dict[str, Any]:
    """One JSONL line: times printed in the home's time zone, as in the dataset."""
    record: dict[str, Any] = {
        "ts": alert.ts.astimezone(tz).isoformat(),
        "household": alert.household,
        "type": alert.type.value,
        "severity": alert.severity.value,
        "message": alert.message,
        "alert_id": alert.alert_id,
        "status": alert.status.value,
    }
    if alert.subtype:
        record["subtype"] = alert.subtype
    if alert.resolved_ts is not None:
        record["resolved_ts"] = alert.resolved_ts.astimezone(tz).isoformat()
    record["evidence"] = alert.evidence.model_dump(mode="json", exclude_none=True)
    return record


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", type=Path, metavar="DATASET_DIR", help="dataset folder")
    parser.add_argument(
        "--alerts-out", type=Path, required=True, metavar="FILE", help="JSONL output ('-': stdout)"
    )
    parser.add_argument("--household", help="household id (default: from the folder name)")
    parser.add_argument("--timezone", default="UTC", help="the home's IANA time zone (UTC)")
    parser.add_argument("--config", type=Path, help="detector config TOML (thresholds)")
    parser.add_argument(
        "--with-resolutions",
        action="store_true",
        help="also write auto-resolutions (status resolved) next to raised alerts",
    )


def _open_output(path: Path) -> TextIO:
    if str(path) == "-":
        return sys.stdout
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("w", encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    try:
        tz = ZoneInfo(args.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        print(f"replay: unknown time zone {args.timezone!r}", file=sys.stderr)
        return 2
    try:
        config = load_config(args.config, DetectorConfig)
        dataset = Dataset.load(args.dataset)
    except (ConfigError, DatasetError) as err:
        print(f"replay: {err}", file=sys.stderr)
        return 2
    household = args.household or household_from_folder(args.dataset)
    config = config.model_copy(update={"timezones": {**config.timezones, household: args.timezone}})
    detector = Detector(config)
    counts: dict[str, int] = {}
    out = _open_output(args.alerts_out)
    try:
        for alert in replay_events(detector, dataset.events(household, tz)):
            if alert.status is AlertStatus.RESOLVED and not args.with_resolutions:
                continue
            if alert.status is AlertStatus.OPEN:
                counts[alert.type.value] = counts.get(alert.type.value, 0) + 1
            out.write(json.dumps(alert_record(alert, tz), ensure_ascii=False) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    summary = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items())) or "none"
    print(
        f"replayed {len(dataset.lines)} events of {household}; alerts raised: {summary}; "
        f"learning progress {detector.learning_progress(household):.2f}",
        file=sys.stderr,
    )
    return 0
