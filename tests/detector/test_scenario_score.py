"""Scoring the detector against simulated scenarios with ground truth."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dagritme.cli import main
from dagritme.models import Alert, AlertStatus, AlertType, Severity
from detector.scenario_score import (
    GroundTruthError,
    HomeRun,
    ScenarioTruth,
    parse_ground_truth,
    score_homes,
)

T0 = datetime(2026, 2, 2, tzinfo=UTC)  # a Monday
LEARNED = T0 - timedelta(days=20)
DATA_END = T0 + timedelta(days=40)  # 60 days after learning: false alarms x 0.5 a 30 days


def _alert(
    kind: AlertType,
    at: datetime,
    subtype: str | None = None,
    status: AlertStatus = AlertStatus.OPEN,
    household: str = "sim-00001",
) -> Alert:
    return Alert(
        alert_id=f"a-{kind.value}-{int(at.timestamp())}",
        ts=at,
        household=household,
        type=kind,
        subtype=subtype,
        severity=Severity.INFO if kind is AlertType.TREND else Severity.URGENT,
        message="test alert",
        status=status,
    )


def _truth(
    scenario: str,
    expected: AlertType | None,
    start: datetime,
    length: timedelta,
    subtype: str | None = None,
    household: str = "sim-00001",
) -> ScenarioTruth:
    return ScenarioTruth(scenario, household, start, start + length, expected, subtype)


def _home(truths: list[ScenarioTruth], alerts: list[Alert], key: str = "sim-00001") -> HomeRun:
    return HomeRun(key, "sim-00001", tuple(truths), tuple(alerts), LEARNED, DATA_END)


def test_acute_scenarios_match_by_type_and_window_with_minute_delays() -> None:
    falls = [T0 + timedelta(days=d, hours=10) for d in (1, 2, 3)]
    truths = [_truth("fall", AlertType.INACTIVITY, at, timedelta(hours=10)) for at in falls]
    alerts = [
        _alert(AlertType.INACTIVITY, falls[0] + timedelta(minutes=90)),
        _alert(AlertType.INACTIVITY, falls[0] + timedelta(minutes=90), status=AlertStatus.RESOLVED),
        # the bathroom was the last room: a long bathroom stay also detects the fall
        _alert(AlertType.BATHROOM_LONG, falls[1] + timedelta(minutes=150)),
        # the third fall is missed: this alert comes after the fall ended (plus the grace)
        _alert(AlertType.INACTIVITY, falls[2] + timedelta(hours=12)),
    ]
    report = score_homes([_home(truths, alerts)])
    fall = report["scenarios"]["fall"]
    assert (fall["injected"], fall["detected"], fall["detection_rate"]) == (3, 2, 0.667)
    assert fall["delay_unit"] == "minutes"
    assert fall["delay"]["median"] == 120.0
    assert fall["delay"]["p90"] == pytest.approx(144.0)
    assert fall["missed"] == ["sim-00001"]
    false_alarms = report["false_alarms"]
    assert false_alarms["count"] == 1
    assert false_alarms["by_type"] == {"inactivity": {"count": 1, "per_household_per_30_days": 0.5}}
    assert report["household_days_after_learning"] == 60.0
    assert false_alarms["during_scenarios"] == {"count": 0, "by_type": {}}


def test_unmatched_alerts_are_false_alarms_after_the_learning_period_only() -> None:
    alerts = [
        _alert(AlertType.NIGHT_DOOR, LEARNED - timedelta(days=2)),  # while learning: not counted
        _alert(AlertType.NIGHT_DOOR, T0 + timedelta(hours=3)),
        _alert(AlertType.NOT_UP, T0 + timedelta(days=5, hours=9)),
        _alert(AlertType.TREND, T0 + timedelta(days=7), subtype="activity"),
    ]
    clean = _home([], alerts, key="s1/sim-00001")
    other = HomeRun("s2/sim-00001", "sim-00001", (), (), LEARNED, DATA_END)
    report = score_homes([clean, other])
    false_alarms = report["false_alarms"]
    assert report["scenarios"] == {}
    assert false_alarms["count"] == 3
    assert false_alarms["per_household_per_30_days"] == 0.75  # 3 in 120 household-days
    assert false_alarms["trend"] == {
        "count": 1,
        "per_household_per_30_days": 0.25,
        "by_subtype": {"activity": 1},
    }
    assert report["homes"]["s1/sim-00001"]["false_alarms"] == {
        "night_door": 1,
        "not_up": 1,
        "trend": 1,
    }
    assert report["homes"]["s2/sim-00001"]["alerts_raised"] == 0


def test_trend_needs_its_subtype_and_opens_within_two_weeks_of_the_drift_end() -> None:
    drift = timedelta(days=21)
    starts = [T0 - timedelta(days=d) for d in (0, 7, 14)]
    alerts = [
        # 20 days in: detected
        [_alert(AlertType.TREND, starts[0] + timedelta(days=20), "night_toilet")],
        [
            # a trend of another kind during the drift does not detect it: a false trend
            _alert(AlertType.TREND, starts[1] + timedelta(days=14), "activity"),
            # 34 days after the start (13 after the end): still inside the grace window
            _alert(AlertType.TREND, starts[1] + timedelta(days=34), "night_toilet"),
        ],
        # the third drift's only alert is 15 days after its end: too late, a false trend
        [_alert(AlertType.TREND, starts[2] + drift + timedelta(days=15), "night_toilet")],
    ]
    homes = [
        _home(
            [_truth("trend_night_toilet", AlertType.TREND, start, drift, "night_toilet")],
            found,
            key=f"s{number}/sim-00001",
        )
        for number, (start, found) in enumerate(zip(starts, alerts, strict=True))
    ]
    report = score_homes(homes)
    trend = report["scenarios"]["trend_night_toilet"]
    assert (trend["injected"], trend["detected"], trend["delay_unit"]) == (3, 2, "days")
    assert trend["delay"]["median"] == 27.0
    assert trend["subtype"] == "night_toilet"
    assert trend["missed"] == ["s2/sim-00001"]
    assert report["false_alarms"]["trend"]["by_subtype"] == {"activity": 1, "night_toilet": 1}


def test_late_match_is_outside_the_grace_window() -> None:
    start = T0 - timedelta(days=10)
    truth = _truth("trend_kitchen", AlertType.TREND, start, timedelta(days=21), "kitchen")
    late = _alert(AlertType.TREND, start + timedelta(days=21 + 14, minutes=1), "kitchen")
    report = score_homes([_home([truth], [late])])
    assert report["scenarios"]["trend_kitchen"]["detected"] == 0
    assert report["false_alarms"]["trend"]["count"] == 1


def test_repeats_not_up_lead_and_scenarios_without_an_alert() -> None:
    fall_at = T0 + timedelta(days=2, hours=10)
    morning = T0 + timedelta(days=3, hours=7)  # 08:00 local
    visit = T0 + timedelta(days=4, hours=13)
    outage = T0 + timedelta(days=5, hours=12)
    truths = [
        _truth("fall", AlertType.INACTIVITY, fall_at, timedelta(hours=10)),
        _truth("not_up", AlertType.NOT_UP, morning, timedelta(hours=4)),
        _truth("visitors", None, visit, timedelta(hours=2)),
        _truth("gateway_offline", AlertType.GATEWAY_OFFLINE, outage, timedelta(hours=3)),
    ]
    alerts = [
        _alert(AlertType.INACTIVITY, fall_at + timedelta(hours=2)),
        _alert(AlertType.INACTIVITY, fall_at + timedelta(hours=5)),  # raised again: a repeat
        _alert(AlertType.NOT_UP, morning - timedelta(minutes=30)),  # usual rising is earlier
        _alert(AlertType.NOT_RETURNED, visit + timedelta(minutes=50)),
        _alert(AlertType.INACTIVITY, outage + timedelta(hours=2)),  # a gap the data cannot explain
    ]
    report = score_homes([_home(truths, alerts)])
    scenarios = report["scenarios"]
    assert scenarios["fall"]["detected"] == 1
    assert scenarios["fall"]["repeat_alerts"] == 1
    assert scenarios["not_up"]["delay"]["median"] == -30.0
    assert scenarios["visitors"] == {
        "expected_alert": None,
        "subtype": None,
        "injected": 1,
        "alerts_during": 1,
        "homes_with_alerts": 1,
        "during_by_type": {"not_returned": 1},
    }
    assert scenarios["gateway_offline"]["scoreable"] is False
    assert report["excused_alerts"] == 1
    assert report["false_alarms"]["during_scenarios"] == {
        "count": 1,
        "by_type": {"not_returned": 1},
    }
    assert report["false_alarms"]["by_type"] == {
        "not_returned": {"count": 1, "per_household_per_30_days": 0.5}
    }


def test_ground_truth_lines_are_parsed_and_errors_name_the_line() -> None:
    good = json.dumps(
        {
            "scenario": "trend_bedtime",
            "household": "sim-00002",
            "start": "2026-02-05T23:00:00+00:00",
            "end": "2026-02-26T23:00:00+00:00",
            "expected_alert": "trend",
            "subtype": "bedtime",
            "sensor": None,
        }
    )
    (truth,) = parse_ground_truth([good, ""])
    assert truth.expected_alert is AlertType.TREND
    assert truth.start == datetime(2026, 2, 5, 23, tzinfo=UTC)
    with pytest.raises(GroundTruthError, match="gt:2:"):
        parse_ground_truth([good, '{"scenario": "fall"}'], "gt")
    naive = good.replace("+00:00", "")
    with pytest.raises(GroundTruthError, match="gt:1:"):
        parse_ground_truth([naive], "gt")


def test_cli_scores_a_simulated_night_toilet_trend(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sim"
    simulate = ["simulate", "--households", "2", "--days", "50", "--seed", "1"]
    assert main([*simulate, "--scenario", "trend_night_toilet@21", "--out", str(out)]) == 0
    capsys.readouterr()
    truth = out / "ground_truth.jsonl"
    args = ["evaluate", str(out), "--scenarios", str(truth), "--timezone", "Europe/Amsterdam"]
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["mode"] == "scenarios"
    assert report["households"] == 2
    trend = report["scenarios"]["trend_night_toilet"]
    assert trend["injected"] == 2
    assert trend["detected"] >= 1
    assert 7 <= trend["delay"]["median"] <= 35
    assert set(report["homes"]) == {"sim-00001", "sim-00002"}
    assert report["records_without_dataset"] == 0
    assert all(home["learned_from"] for home in report["homes"].values())


def test_cli_refuses_a_broken_ground_truth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sim"
    assert main(["simulate", "--households", "1", "--days", "2", "--out", str(out)]) == 0
    broken = tmp_path / "truth.jsonl"
    broken.write_text("not json\n")
    args = ["evaluate", str(out), "--scenarios", str(broken), "--timezone", "Europe/Amsterdam"]
    assert main(args) == 2
    assert f"ground truth: {broken}:1:" in capsys.readouterr().err
