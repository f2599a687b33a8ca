"""Score the detector against the simulator's own scenarios, with their ground truth.

`dagritme evaluate DIR... --scenarios GROUND_TRUTH.jsonl --timezone Europe/Amsterdam --json`
replays each dataset once, unchanged, and compares the alerts with the ground-truth records
of the simulate run (one JSON object a line: scenario, household, start, end,
expected_alert, subtype, sensor). Nothing is injected here: the anomalies are the ones the
simulator wrote into the data, slow trends included.

The scoring (`score_homes`) is pure: ground truth and alerts in, a report out. A scenario is
detected by the first alert that matches its `MatchRule` (type, for trends also subtype, and
opening inside the rule's window around the scenario). Alerts that match no scenario are
false alarms, counted after each home's learning period, per household per 30 days.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from dagritme.config import load_config
from dagritme.dataset import Dataset, DatasetError
from dagritme.models import Alert, AlertStatus, AlertType
from detector.config import DetectorConfig
from detector.core import Detector
from detector.replay import Replayer, household_from_folder, input_error

logger = logging.getLogger(__name__)

GROUND_TRUTH_FILE = "ground_truth.jsonl"
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
END_OF_DAY_SLACK = timedelta(hours=1)


class GroundTruthError(ValueError):
    """A ground-truth file that cannot be read; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class ScenarioTruth:
    """One scenario the simulator placed in one home (times in UTC)."""

    scenario: str
    household: str
    start: datetime
    end: datetime
    expected_alert: AlertType | None
    subtype: str | None = None
    sensor: str | None = None


@dataclass(frozen=True, slots=True)
class MatchRule:
    """Which alerts detect a scenario that expects `expected`, and when they may open.

    The window runs from `start - lead` to `end + grace`. `scoreable` is False where a
    dataset cannot show the cause (a gateway outage is only a gap in the events); alerts in
    such a window are then excused rather than counted as false alarms.
    """

    expected: AlertType
    accepts: frozenset[AlertType]
    lead: timedelta = timedelta(0)
    grace: timedelta = timedelta(hours=1)
    unit: timedelta = MINUTE  # delays are reported in minutes or in days
    match_subtype: bool = False
    scoreable: bool = True


MATCH_RULES: list[MatchRule] = [
    # a fall where the bathroom was the last room is rightly a long bathroom stay
    MatchRule(AlertType.INACTIVITY, frozenset({AlertType.INACTIVITY, AlertType.BATHROOM_LONG})),
    # the simulated resident stays in bed from the usual rising, which can be before `start`
    MatchRule(AlertType.NOT_UP, frozenset({AlertType.NOT_UP}), lead=timedelta(hours=4)),
    MatchRule(AlertType.NIGHT_DOOR, frozenset({AlertType.NIGHT_DOOR})),
    MatchRule(AlertType.NOT_RETURNED, frozenset({AlertType.NOT_RETURNED})),
    MatchRule(AlertType.BATHROOM_LONG, frozenset({AlertType.BATHROOM_LONG, AlertType.INACTIVITY})),
    # weekly checks: the alert may come up to two weeks after the drift is complete
    MatchRule(
        AlertType.TREND,
        frozenset({AlertType.TREND}),
        grace=timedelta(days=14),
        unit=DAY,
        match_subtype=True,
    ),
    MatchRule(AlertType.SENSOR_OFFLINE, frozenset({AlertType.SENSOR_OFFLINE})),
    # a dataset has no battery reports; it shows the drained device going quiet for good
    MatchRule(
        AlertType.BATTERY_LOW,
        frozenset({AlertType.BATTERY_LOW, AlertType.SENSOR_OFFLINE}),
        grace=timedelta(days=3),
    ),
    MatchRule(AlertType.GATEWAY_OFFLINE, frozenset({AlertType.GATEWAY_OFFLINE}), scoreable=False),
]
RULES_BY_TYPE = {rule.expected: rule for rule in MATCH_RULES}
# Scenarios that expect no alert (visitors, holiday, clock change): alerts from their start
# until a day after their end are reported as raised "during" them (and are false alarms).
NO_ALERT_GRACE = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class HomeRun:
    """One replayed home: its ground truth, the alerts raised, and the scored period."""

    key: str  # unique name in the report (homes of several runs share household ids)
    household: str
    truths: tuple[ScenarioTruth, ...]
    alerts: tuple[Alert, ...]
    learned_from: datetime | None  # when learned norms replaced the defaults
    data_end: datetime


@dataclass(slots=True)
class _Outcome:
    truth: ScenarioTruth
    home: str
    delay: float | None = None  # in the rule's unit; None: missed
    repeats: int = 0  # further matching alerts in the same window
    during: list[str] = field(default_factory=list)  # alerts in a no-alert scenario


def parse_ground_truth(lines: Iterable[str], source: str = "ground truth") -> list[ScenarioTruth]:
    """Records of a ground-truth JSONL text; blank lines are skipped."""
    out: list[ScenarioTruth] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            expected = data.get("expected_alert")
            truth = ScenarioTruth(
                scenario=str(data["scenario"]),
                household=str(data["household"]),
                start=_aware(datetime.fromisoformat(data["start"])),
                end=_aware(datetime.fromisoformat(data["end"])),
                expected_alert=AlertType(expected) if expected else None,
                subtype=data.get("subtype"),
                sensor=data.get("sensor"),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise GroundTruthError(f"{source}:{number}: not a ground-truth record ({err})") from err
        out.append(truth)
    return out


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("time without a UTC offset")
    return moment


def load_ground_truth(path: Path) -> list[ScenarioTruth]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise GroundTruthError(f"{path}: {err.strerror or err}") from err
    return parse_ground_truth(text.splitlines(), str(path))


# ---------------------------------------------------------------------- pure scoring


def _window(truth: ScenarioTruth, rule: MatchRule | None) -> tuple[datetime, datetime]:
    if rule is None:
        return truth.start, max(truth.end, truth.start) + NO_ALERT_GRACE
    return truth.start - rule.lead, truth.end + rule.grace


def _matches(alert: Alert, truth: ScenarioTruth, rule: MatchRule) -> bool:
    if alert.type not in rule.accepts:
        return False
    if rule.match_subtype and alert.subtype != truth.subtype:
        return False
    low, high = _window(truth, rule)
    return low <= alert.ts <= high


def _score_home(home: HomeRun) -> tuple[list[_Outcome], list[Alert], int]:
    """Per scenario its outcome; the alerts left over (false alarms); how many were excused."""
    raised = sorted((a for a in home.alerts if a.status is AlertStatus.OPEN), key=lambda a: a.ts)
    claimed: set[int] = set()
    excused: set[int] = set()
    outcomes: list[_Outcome] = []
    quiet: list[_Outcome] = []  # scenarios that expect no alert, scored on what is left
    for truth in sorted(home.truths, key=lambda t: t.start):
        outcome = _Outcome(truth, home.key)
        outcomes.append(outcome)
        rule = RULES_BY_TYPE.get(truth.expected_alert) if truth.expected_alert else None
        if rule is None:
            quiet.append(outcome)
        elif not rule.scoreable:
            low, high = _window(truth, rule)
            excused.update(i for i, a in enumerate(raised) if low <= a.ts <= high)
        else:
            hits = [
                i for i, a in enumerate(raised) if i not in claimed and _matches(a, truth, rule)
            ]
            if hits:
                outcome.delay = (raised[hits[0]].ts - truth.start) / rule.unit
                outcome.repeats = len(hits) - 1
                claimed.update(hits)
    left = [(i, a) for i, a in enumerate(raised) if i not in claimed and i not in excused]
    for outcome in quiet:
        low, high = _window(outcome.truth, None)
        outcome.during = [a.type.value for _, a in left if low <= a.ts <= high]
    return outcomes, [a for _, a in left], len(excused)


def _delay_stats(delays: Sequence[float]) -> dict[str, float | None]:
    if not delays:
        return {"median": None, "p90": None}
    return {
        "median": round(float(np.median(delays)), 1),
        "p90": round(float(np.percentile(delays, 90)), 1),
    }


def _scenario_report(outcomes: Sequence[_Outcome]) -> dict[str, Any]:
    first = outcomes[0].truth
    rule = RULES_BY_TYPE.get(first.expected_alert) if first.expected_alert else None
    report: dict[str, Any] = {
        "expected_alert": first.expected_alert.value if first.expected_alert else None,
        "subtype": first.subtype,
        "injected": len(outcomes),
    }
    if rule is None:
        during = [o for o in outcomes if o.during]
        report["alerts_during"] = sum(len(o.during) for o in outcomes)
        report["homes_with_alerts"] = len(during)
        report["during_by_type"] = dict(
            sorted(Counter(t for o in during for t in o.during).items())
        )
        return report
    if not rule.scoreable:
        report["scoreable"] = False
        return report
    delays = [o.delay for o in outcomes if o.delay is not None]
    report.update(
        {
            "detected": len(delays),
            "detection_rate": round(len(delays) / len(outcomes), 3),
            "delay_unit": "days" if rule.unit == DAY else "minutes",
            "delay": _delay_stats(delays),
            "repeat_alerts": sum(o.repeats for o in outcomes),
            "missed": sorted(o.home for o in outcomes if o.delay is None),
        }
    )
    return report


def _rate(count: int, days: float) -> float | None:
    return round(count / days * 30, 3) if days > 0 else None


def _inside_any(alert: Alert, truths: Iterable[ScenarioTruth]) -> bool:
    for truth in truths:
        rule = RULES_BY_TYPE.get(truth.expected_alert) if truth.expected_alert else None
        low, high = _window(truth, rule)
        if low <= alert.ts <= high:
            return True
    return False


def _false_alarm_report(
    alerts: Sequence[Alert], days: float, during: Sequence[Alert]
) -> dict[str, Any]:
    by_type = Counter(a.type.value for a in alerts)
    trends = [a for a in alerts if a.type is AlertType.TREND]
    by_subtype = Counter(a.subtype or "unknown" for a in trends)
    return {
        "count": len(alerts),
        "per_household_per_30_days": _rate(len(alerts), days),
        "by_type": {
            kind: {"count": n, "per_household_per_30_days": _rate(n, days)}
            for kind, n in sorted(by_type.items())
        },
        "trend": {
            "count": len(trends),
            "per_household_per_30_days": _rate(len(trends), days),
            "by_subtype": dict(sorted(by_subtype.items())),
        },
        # side effects: raised inside some scenario's window, of a type that does not match it
        "during_scenarios": {
            "count": len(during),
            "by_type": dict(sorted(Counter(a.type.value for a in during).items())),
        },
    }


def score_homes(homes: Sequence[HomeRun]) -> dict[str, Any]:
    """The report: per scenario detections and delays, and false alarms after learning."""
    outcomes: dict[str, list[_Outcome]] = {}
    false_alarms: list[Alert] = []
    during: list[Alert] = []
    household_days = 0.0
    excused_total = 0
    per_home: dict[str, Any] = {}
    for home in homes:
        scored, left, excused = _score_home(home)
        excused_total += excused
        for outcome in scored:
            outcomes.setdefault(outcome.truth.scenario, []).append(outcome)
        since = home.learned_from
        days = max(0.0, (home.data_end - since) / DAY) if since is not None else 0.0
        counted = [a for a in left if since is not None and a.ts >= since]
        household_days += days
        false_alarms.extend(counted)
        during.extend(a for a in counted if _inside_any(a, home.truths))
        per_home[home.key] = {
            "household": home.household,
            "scenarios": sorted({t.scenario for t in home.truths}),
            "learned_from": since.isoformat() if since else None,
            "days_after_learning": round(days, 2),
            "alerts_raised": sum(1 for a in home.alerts if a.status is AlertStatus.OPEN),
            "false_alarms": dict(sorted(Counter(a.type.value for a in counted).items())),
        }
    return {
        "households": len(homes),
        "household_days_after_learning": round(household_days, 2),
        "scenarios": {name: _scenario_report(found) for name, found in sorted(outcomes.items())},
        "false_alarms": _false_alarm_report(false_alarms, household_days, during),
        "excused_alerts": excused_total,
        "homes": per_home,
    }


# ---------------------------------------------------------------------- replay and CLI


def replay_home(folder: Path, tz: ZoneInfo, config: DetectorConfig) -> HomeRun:
    """One clean replay of a dataset; learned_from is the first local midnight at which the
    learning period was over. When the data stops shortly before a local midnight, ticks run
    on to that midnight, so a weekly trend check at the start of a Monday is not lost."""
    household = household_from_folder(folder)
    dataset = Dataset.load(folder)
    detector = Detector(config.model_copy(update={"timezones": {household: tz.key}}))
    replayer = Replayer(detector)
    alerts: list[Alert] = []
    learned_from: datetime | None = None
    current: date | None = None
    last: datetime | None = None
    for event in dataset.events(household, tz):
        day = event.ts.astimezone(tz).date()
        if day != current:
            midnight = datetime.combine(day, time(), tzinfo=tz)
            alerts.extend(replayer.advance(midnight))
            if learned_from is None and detector.learning_progress(household) >= 1.0:
                learned_from = midnight
            current = day
        alerts.extend(replayer.feed(event))
        last = event.ts
    if last is None:
        raise DatasetError(folder / "events.txt", None, "no events")
    midnight = datetime.combine(last.astimezone(tz).date() + DAY, time(), tzinfo=tz)
    # ticking on through hours without data would raise silence alerts the data never had
    end = midnight if midnight - last <= END_OF_DAY_SLACK else last
    alerts.extend(replayer.advance(end))
    return HomeRun(folder.name, household, (), tuple(alerts), learned_from, end)


def dataset_folders(paths: Sequence[Path]) -> list[Path]:
    """Dataset folders as given, or the home folders of a simulate output folder."""
    out: list[Path] = []
    for path in paths:
        if (path / "events.txt").is_file() or not path.is_dir():
            out.append(path)
            continue
        homes = sorted(p for p in path.iterdir() if (p / "events.txt").is_file())
        out.extend(homes or [path])
    return out


def _truth_for(folder: Path, truth_files: Sequence[Path]) -> Path:
    """The ground truth of a dataset: the only file given, or the one in its parent folder."""
    if len(truth_files) == 1:
        return truth_files[0]
    for candidate in truth_files:
        if candidate.resolve().parent == folder.resolve().parent:
            return candidate
    raise GroundTruthError(
        f"{folder}: none of the {len(truth_files)} ground-truth files sits in its parent folder"
    )


def _keys(folders: Sequence[Path]) -> list[str]:
    names = [folder.name for folder in folders]
    return [
        f"{folder.parent.name}/{folder.name}" if names.count(folder.name) > 1 else folder.name
        for folder in folders
    ]


def evaluate_scenarios(
    paths: Sequence[Path], truth_files: Sequence[Path], tz: ZoneInfo, config: DetectorConfig
) -> dict[str, Any]:
    """Replay every dataset once and score it against its simulate run's ground truth."""
    folders = dataset_folders(paths)
    truths = {path: load_ground_truth(path) for path in truth_files}
    homes: list[HomeRun] = []
    used: set[tuple[Path, str]] = set()
    for key, folder in zip(_keys(folders), folders, strict=True):
        run = replay_home(folder, tz, config)
        source = _truth_for(folder, truth_files)
        own = tuple(t for t in truths[source] if t.household == run.household)
        used.add((source, run.household))
        homes.append(HomeRun(key, run.household, own, run.alerts, run.learned_from, run.data_end))
        logger.debug("scored one home: %d scenario(s)", len(own))
    report = score_homes(homes)
    report["mode"] = "scenarios"
    report["ground_truth"] = [str(path) for path in truth_files]
    # a record whose home was not given (or was renamed) is not scored: say how many
    report["records_without_dataset"] = sum(
        (path, t.household) not in used for path, records in truths.items() for t in records
    )
    return report


def run_scenarios(args: argparse.Namespace) -> int:
    """The `--scenarios` mode of `dagritme evaluate`."""
    if args.learning_period:
        print("evaluate: --learning-period does not apply with --scenarios", file=sys.stderr)
        return 2
    try:
        tz = ZoneInfo(args.timezone)
        config = load_config(args.config, DetectorConfig)
        report = evaluate_scenarios(args.datasets, args.scenarios, tz, config)
    except (ZoneInfoNotFoundError, ValueError) as err:
        return input_error("evaluate", err, (GroundTruthError, "ground truth"))
    print(json.dumps(report, sort_keys=True, indent=None if args.json else 2))
    return 0
