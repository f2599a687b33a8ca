"""`dagritme evaluate DATASET_DIR... --seed S --json`: learned detector vs fixed rules.

For each dataset: one clean replay (checkpointing the detector at every local midnight),
false alarms per 30 days on the unmodified data after the learning period, then seeded
injections (falls, missing mornings, front door at night). Each injection restores the
detector checkpoint of its day and replays only that day with the anomaly, so dozens of
injections cost about one replay. The fixed-rule baseline runs the same scenarios.
"""

from __future__ import annotations

import argparse
import bisect
import json
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from dagritme.config import load_config
from dagritme.dataset import Dataset, RawLine
from dagritme.models import Alert, AlertStatus, AlertType, Event, Kind, Room
from detector.annotations import compare_with_annotations
from detector.baseline import FixedRuleBaseline
from detector.config import DetectorConfig
from detector.core import Detector
from detector.injections import SCENARIOS, DayData, Injection, Scenario
from detector.replay import Replayer, household_from_folder, input_error
from detector.scenario_score import run_scenarios
from detector.state import HouseholdState

ALARM_TYPES = frozenset(
    {
        AlertType.INACTIVITY,
        AlertType.NOT_UP,
        AlertType.NIGHT_DOOR,
        AlertType.NOT_RETURNED,
        AlertType.BATHROOM_LONG,
    }
)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    blob: bytes
    next_tick: datetime | None


@dataclass(slots=True)
class Prepared:
    name: str
    household: str
    tz: ZoneInfo
    events: list[Event]
    times: list[datetime]
    days: list[date]
    checkpoints: dict[date, Checkpoint]
    learned_from: date | None
    exterior_door: str | None
    lines: list[RawLine]  # with the dataset's activity labels, if any
    final_state: HouseholdState  # after the whole clean replay


def _local_day(event: Event, tz: ZoneInfo) -> date:
    return event.ts.astimezone(tz).date()


def prepare(folder: Path, tz: ZoneInfo, config: DetectorConfig) -> tuple[Prepared, list[Alert]]:
    """Clean replay with a checkpoint at each local midnight; returns the alerts raised."""
    household = household_from_folder(folder)
    dataset = Dataset.load(folder)
    events = list(dataset.events(household, tz))
    days = sorted({_local_day(e, tz) for e in events})
    detector = Detector(config.model_copy(update={"timezones": {household: tz.key}}))
    replayer = Replayer(detector)
    alerts: list[Alert] = []
    checkpoints: dict[date, Checkpoint] = {}
    learned_from: date | None = None
    index = 0
    for day in days:
        midnight = datetime.combine(day, time(), tzinfo=tz)
        alerts.extend(replayer.advance(midnight))
        if index:
            checkpoints[day] = Checkpoint(detector.snapshot(household), replayer.next_tick)
        if learned_from is None and detector.learning_progress(household) >= 1.0:
            learned_from = day
        while index < len(events) and _local_day(events[index], tz) == day:
            alerts.extend(replayer.feed(events[index]))
            index += 1
    door = next((e.sensor for e in events if e.kind is Kind.DOOR and e.room is Room.ENTRANCE), None)
    prepared = Prepared(
        folder.name,
        household,
        tz,
        events,
        [e.ts for e in events],
        days,
        checkpoints,
        learned_from,
        door,
        dataset.lines,
        HouseholdState.restore(household, detector.snapshot(household)),
    )
    return prepared, alerts


def _baseline_alerts(prepared: Prepared, events: Iterable[Event], until: datetime) -> list[Alert]:
    replayer = Replayer(FixedRuleBaseline(prepared.household, prepared.tz))
    out: list[Alert] = []
    for event in events:
        out.extend(replayer.feed(event))
    out.extend(replayer.advance(until))
    return out


def _slice(prepared: Prepared, start: datetime, end: datetime) -> list[Event]:
    low = bisect.bisect_left(prepared.times, start)
    high = bisect.bisect_left(prepared.times, end)
    return prepared.events[low:high]


def _first_detection(
    alerts: Iterable[Alert], injection: Injection, detects: frozenset[AlertType]
) -> float | None:
    for alert in alerts:
        if (
            alert.status is AlertStatus.OPEN
            and alert.type in detects
            and injection.start <= alert.ts <= injection.window_end
        ):
            return (alert.ts - injection.reference).total_seconds() / 60
    return None


def run_injection(
    prepared: Prepared, config: DetectorConfig, scenario: Scenario, injection: Injection
) -> tuple[float | None, float | None]:
    """Minutes to the first matching alert, for the detector and for the baseline."""
    day_start = datetime.combine(injection.day, time(), tzinfo=prepared.tz)
    checkpoint = prepared.checkpoints[injection.day]
    detector = Detector(
        config.model_copy(update={"timezones": {prepared.household: prepared.tz.key}})
    )
    detector.restore(prepared.household, checkpoint.blob)
    replayer = Replayer(detector, next_tick=checkpoint.next_tick)
    events = injection.apply(_slice(prepared, day_start, injection.window_end))
    alerts: list[Alert] = []
    for event in events:
        alerts.extend(replayer.feed(event))
    alerts.extend(replayer.advance(injection.window_end))
    learned = _first_detection(alerts, injection, scenario.detects)

    warm_start = day_start - timedelta(days=1)
    base_events = injection.apply(_slice(prepared, warm_start, injection.window_end))
    baseline = _first_detection(
        _baseline_alerts(prepared, base_events, injection.window_end), injection, scenario.detects
    )
    return learned, baseline


def _stats(delays: Sequence[float | None]) -> dict[str, Any]:
    found = [d for d in delays if d is not None]
    return {
        "injected": len(delays),
        "detected": len(found),
        "detection_rate": round(len(found) / len(delays), 3) if delays else None,
        "median_min": round(float(np.median(found)), 1) if found else None,
        "p90_min": round(float(np.percentile(found, 90)), 1) if found else None,
    }


def _false_alarms(alerts: Iterable[Alert], since: datetime, days: float) -> dict[str, Any]:
    counts = Counter(
        a.type.value
        for a in alerts
        if a.status is AlertStatus.OPEN and a.type in ALARM_TYPES and a.ts >= since
    )
    total = sum(counts.values())
    return {
        "count": total,
        "by_type": dict(sorted(counts.items())),
        "per_30_days": round(total / days * 30, 2) if days > 0 else None,
    }


def evaluate_dataset(
    folder: Path,
    tz: ZoneInfo,
    config: DetectorConfig,
    seed: int,
    per_scenario: int,
    *,
    learning_period: bool = False,
) -> dict[str, Any]:
    """Scores after the learning period (or in it, with `learning_period`, on its days)."""
    prepared, clean_alerts = prepare(folder, tz, config)
    eligible = [d for d in prepared.days[1:-1] if d in prepared.checkpoints]
    learned_from = (
        datetime.combine(prepared.learned_from, time(), tzinfo=tz)
        if prepared.learned_from
        else None
    )
    cold_start = True
    if learning_period:
        eligible = [
            d for d in eligible if prepared.learned_from is None or d < prepared.learned_from
        ]
    elif prepared.learned_from is not None:
        learned_days = [d for d in eligible if d >= prepared.learned_from]
        if len(learned_days) >= 3:
            eligible, cold_start = learned_days, False
    end = prepared.events[-1].ts
    if learning_period:
        since = prepared.events[0].ts
        end = learned_from or end
        clean_alerts = [a for a in clean_alerts if a.ts < end]
    else:
        since = learned_from or end
    evaluated_days = (end - since).total_seconds() / 86400
    clean_events = _slice(prepared, since, end) if learning_period else prepared.events
    baseline_clean = _baseline_alerts(prepared, clean_events, end)
    rng = random.Random(seed)
    report: dict[str, Any] = {
        "household": prepared.household,
        "days": len(prepared.days),
        "events": len(prepared.events),
        "learned_from": prepared.learned_from.isoformat() if prepared.learned_from else None,
        "injected_during_cold_start": cold_start,
        "false_alarm_days": round(evaluated_days, 2),
        "detector": {"false_alarms": _false_alarms(clean_alerts, since, evaluated_days)},
        "baseline": {"false_alarms": _false_alarms(baseline_clean, since, evaluated_days)},
        "annotations": compare_with_annotations(prepared.lines, prepared.final_state),
    }
    for scenario in SCENARIOS:
        learned: list[float | None] = []
        rooms: list[str] = []  # room of the last presence before each injection
        baseline: list[float | None] = []
        for _ in range(per_scenario):
            if not eligible:
                break
            day = rng.choice(eligible)
            data = DayData(
                day, tz, prepared.household, prepared.events, prepared.times, prepared.exterior_door
            )
            injection = scenario.build(data, rng) if data.lived_in() else None
            if injection is None:
                continue
            got, base = run_injection(prepared, config, scenario, injection)
            learned.append(got)
            before = data.last_presence_before(injection.start, timedelta(hours=1))
            rooms.append(before.room.value if before else "unknown")
            baseline.append(base)
        report["detector"][scenario.name] = _stats(learned) if learned else None
        if learned and scenario.name == "fall":
            report["detector"]["fall_by_last_room"] = {
                room: _stats([d for d, r in zip(learned, rooms, strict=True) if r == room])
                for room in sorted(set(rooms))
            }
        report["baseline"][scenario.name] = _stats(baseline) if baseline else None
    return report


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("datasets", nargs="+", type=Path, metavar="DATASET_DIR")
    parser.add_argument("--seed", type=int, default=1, help="seed of the injections")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--timezone", default="UTC", help="the homes' IANA time zone (UTC)")
    parser.add_argument(
        "--injections", type=int, default=12, help="injections per scenario per dataset"
    )
    parser.add_argument("--config", type=Path, help="detector config TOML (thresholds)")
    parser.add_argument(
        "--learning-period",
        action="store_true",
        help="score the learning period instead: injections on its days, its false alarms",
    )
    parser.add_argument(
        "--scenarios",
        action="append",
        type=Path,
        metavar="GROUND_TRUTH.jsonl",
        help="score the datasets' own simulated scenarios against this ground truth instead "
        "of injecting (repeatable: one file per simulate run, found by its folder)",
    )


def report_keys(folders: list[Path]) -> dict[str, Path]:
    """Each dataset's key in the report: its folder name, or `parent/name` when two folders
    share a name (homes of several simulated runs), so no result overwrites another."""
    names = [folder.name for folder in folders]
    return {
        f"{folder.parent.name}/{folder.name}" if names.count(folder.name) > 1 else folder.name: (
            folder
        )
        for folder in folders
    }


def run(args: argparse.Namespace) -> int:
    if getattr(args, "scenarios", None):
        return run_scenarios(args)
    try:
        tz = ZoneInfo(args.timezone)
        config = load_config(args.config, DetectorConfig)
        report = {
            "seed": args.seed,
            "datasets": {
                key: evaluate_dataset(
                    folder,
                    tz,
                    config,
                    args.seed,
                    args.injections,
                    learning_period=args.learning_period,
                )
                for key, folder in report_keys(args.datasets).items()
            },
        }
    except (ZoneInfoNotFoundError, ValueError) as err:
        return input_error("evaluate", err)
    if args.json:
        print(json.dumps(report, sort_keys=True))
    else:
        print(json.dumps(report, indent=2, sort_keys=True))
    return 0
