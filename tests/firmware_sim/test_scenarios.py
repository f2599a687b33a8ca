"""Scenarios: parsing, placement in time, their effect on the home, and ground truth."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dagritme.models import AlertType, Kind, Room
from firmware_sim.fleet import first_day_for, make_homes
from firmware_sim.home import SimulatedHome
from firmware_sim.scenarios import (
    SCENARIOS,
    ScenarioError,
    dst_change_on,
    parse_scenario,
    write_ground_truth,
)

AMS = ZoneInfo("Europe/Amsterdam")
MONDAY = date(2026, 1, 5)


def _home(*scenarios: str, persona: str = "typical", days: int = 14) -> SimulatedHome:
    return make_homes(1, first_day=MONDAY, days=days, personas=[persona], scenarios=scenarios)[0]


def _local(day: int, hour: int, minute: int = 0) -> datetime:
    moment = datetime.combine(MONDAY + timedelta(days=day), time(hour, minute), AMS)
    return moment.astimezone(UTC)


def test_parse_forms() -> None:
    assert parse_scenario("fall").day is None
    request = parse_scenario("not_up@4T09:15")
    assert (request.name, request.day, request.at) == ("not_up", 4, time(9, 15))
    assert parse_scenario("night-wandering@2").name == "night_wandering"
    for bad in ("nope", "fall@x", "fall@3T25:00", "fall@3T10"):
        with pytest.raises(ScenarioError):
            parse_scenario(bad)


def test_every_issue_scenario_exists() -> None:
    wanted = {
        "fall", "not_up", "night_wandering", "not_returned", "bathroom_long",
        "trend_night_toilet", "trend_rising", "trend_kitchen", "battery_dying",
        "sensor_offline", "gateway_offline", "visitors", "holiday", "daylight_saving",
    }  # fmt: skip
    assert wanted <= set(SCENARIOS)


def test_fall_means_silence_from_its_time() -> None:
    home = _home("fall@10T10:30")
    injection = home.injections[0]
    assert injection.start == _local(10, 10, 30)
    assert injection.kind.expected is AlertType.INACTIVITY
    events = list(home.events(_local(10, 6), _local(11, 6)))
    during = [e for e in events if injection.start <= e.ts < injection.end and e.active]
    assert during == []
    assert any(e.active for e in events if e.ts >= injection.end)
    before = [e for e in events if e.ts < injection.start and e.active]
    assert before, "the morning before the fall was normal"


def test_night_wandering_opens_the_front_door_at_night() -> None:
    home = _home("night_wandering@5T03:10")
    events = list(home.events(_local(5, 0), _local(5, 5)))
    door = [e for e in events if e.is_exterior_door and e.active]
    assert door
    assert all(_local(5, 3) <= e.ts <= _local(5, 3, 40) for e in door)
    assert home.injections[0].kind.expected is AlertType.NIGHT_DOOR


def test_not_up_keeps_the_resident_in_bed() -> None:
    home = _home("not_up@6T08:00")
    events = list(home.events(_local(6, 4), _local(6, 14)))
    out_of_bed = [e for e in events if e.active and e.room is not Room.BEDROOM]
    assert out_of_bed
    assert min(e.ts for e in out_of_bed) >= _local(6, 11, 59)


def test_not_returned_and_holiday_are_long_absences() -> None:
    gone = _home("not_returned@3T10:00")
    inside = [
        e
        for e in gone.events(_local(3, 10, 2), _local(3, 18, 55))
        if e.active and e.kind is Kind.MOTION
    ]
    assert inside == []
    holiday = _home("holiday@2T09:30")
    quiet = [e for e in holiday.events(_local(3, 0), _local(7, 0)) if e.active]
    assert quiet == []
    assert holiday.injections[0].kind.expected is None


def test_bathroom_long_is_one_long_bathroom_stay() -> None:
    home = _home("bathroom_long@4T15:00")
    events = list(home.events(_local(4, 15, 1), _local(4, 16, 39)))
    assert events
    assert {e.room for e in events if e.active} <= {Room.BATHROOM}


def test_night_toilet_trend_raises_night_visits() -> None:
    home = _home("trend_night_toilet@0", days=40)
    plain = _home(days=40)

    def night_visits(h: SimulatedHome, first: int) -> int:
        stays = h.stays(_local(first, 0), _local(first + 10, 0))
        return sum(
            1
            for s in stays
            if s.place is Room.BATHROOM
            and s.start >= _local(first, 0).timestamp()
            and not 6 <= datetime.fromtimestamp(s.start, AMS).hour < 23
        )

    assert night_visits(home, 28) > night_visits(plain, 28) + 12


def test_device_scenarios_silence_the_device_and_report_availability() -> None:
    home = _home("sensor_offline@3T11:00")
    home.availability_timeout_s = 3600
    injection = home.injections[0]
    assert injection.sensor == "bathroom_motion"
    spec = home.device("bathroom_motion")
    messages = list(home.messages(_local(3, 0), _local(6, 0)))
    own = [m for m in messages if m.topic_suffix == spec.friendly_name]
    assert own
    assert not any(injection.start <= m.ts < injection.end for m in own)
    availability = [m for m in messages if m.topic_suffix.endswith("/availability")]
    assert [m.ts for m in availability] == [
        injection.start + timedelta(hours=1),
        injection.end,
    ]


def test_battery_dying_drains_then_goes_quiet() -> None:
    home = _home("battery_dying@2T08:00")
    injection = home.injections[0]
    spec = home.device(str(injection.sensor))
    levels = [
        m.payload["battery"]
        for m in home.messages(injection.start, injection.end + timedelta(days=1))
        if m.topic_suffix == spec.friendly_name and isinstance(m.payload, dict)
    ]
    assert levels[0] > 15
    assert min(levels) <= 2
    after = [
        m
        for m in home.messages(
            injection.end + timedelta(hours=1), injection.end + timedelta(days=3)
        )
        if m.topic_suffix == spec.friendly_name
    ]
    assert after == []


def test_gateway_offline_stops_everything_and_says_so() -> None:
    home = _home("gateway_offline@3T13:00")
    injection = home.injections[0]
    messages = list(home.messages(_local(3, 12), _local(3, 17)))
    inside = [m for m in messages if injection.start <= m.ts < injection.end]
    assert [(m.topic_suffix, m.payload) for m in inside] == [("bridge/state", {"state": "offline"})]
    assert any(m.topic_suffix == "bridge/state" and m.ts == injection.end for m in messages)


def test_visitors_open_the_door_and_overlap_the_resident() -> None:
    home = _home("visitors@2T14:00")
    plain = _home()
    window = (_local(2, 13, 50), _local(2, 16, 20))

    def door_openings(h: SimulatedHome) -> int:
        return sum(1 for e in h.events(*window) if e.is_exterior_door and e.active)

    assert door_openings(home) >= door_openings(plain) + 2


def test_daylight_saving_moves_the_start_to_the_change() -> None:
    first = first_day_for(["daylight_saving@3"], MONDAY, 14, AMS)
    assert first + timedelta(days=3) == date(2026, 3, 29)
    home = make_homes(1, first_day=first, days=14, scenarios=["daylight_saving@3"])[0]
    assert home.injections[0].start == dst_change_on(date(2026, 3, 29), AMS)
    assert home.injections[0].start == datetime(2026, 3, 29, 1, tzinfo=UTC)
    events = list(home.events(_utc(date(2026, 3, 28)), _utc(date(2026, 3, 31))))
    assert [e.ts for e in events] == sorted(e.ts for e in events)
    with pytest.raises(ScenarioError):
        make_homes(1, first_day=MONDAY, days=14, scenarios=["daylight_saving@3"])


def _utc(day: date) -> datetime:
    return datetime.combine(day, time(), AMS).astimezone(UTC)


def test_ground_truth_file(tmp_path: Path) -> None:
    homes = make_homes(2, first_day=MONDAY, days=14, scenarios=["fall@9T10:00", "not_up@5"])
    path = tmp_path / "truth.jsonl"
    count = write_ground_truth(path, [i for h in homes for i in h.injections])
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert count == len(records) == 4
    assert {r["household"] for r in records} == {"sim-00001", "sim-00002"}
    fall = next(r for r in records if r["scenario"] == "fall")
    assert fall["expected_alert"] == "inactivity"
    assert datetime.fromisoformat(fall["start"]) == _local(9, 10)
    assert datetime.fromisoformat(fall["end"]) > datetime.fromisoformat(fall["start"])


def test_scenario_past_the_simulated_days_is_refused() -> None:
    with pytest.raises(ScenarioError):
        make_homes(1, first_day=MONDAY, days=3, scenarios=["fall@5"])


def test_inject_at_an_exact_time_for_the_demo() -> None:
    home = _home()
    before = [e for e in home.events(_local(3, 9), _local(3, 20)) if e.active]
    assert any(_local(3, 12) <= e.ts < _local(3, 18) for e in before)
    injection = home.inject("fall", _local(3, 12), timedelta(hours=6))
    assert injection.end == _local(3, 18)
    after = [e for e in home.events(_local(3, 9), _local(3, 20)) if e.active]
    assert not any(_local(3, 12) <= e.ts < _local(3, 18) for e in after)
    assert home.injections[-1] is injection


def test_rising_and_kitchen_trends_drift_the_routine() -> None:
    from firmware_sim.calibration import profile

    plain, later, less = (
        _home(days=42),
        _home("trend_rising@0", days=42),
        _home("trend_kitchen@0", days=42),
    )
    window = (_local(28, 0), _local(42, 0))
    base = profile(plain.events(*window), AMS)
    assert profile(later.events(*window), AMS).rising_median_h > base.rising_median_h + 0.9
    kitchen_time = [
        sum(s.end - s.start for s in h.stays(*window) if s.place is Room.KITCHEN)
        for h in (plain, less)
    ]
    assert kitchen_time[1] < 0.6 * kitchen_time[0]


def test_bedtime_trend_drifts_bedtime_later() -> None:
    plain, later = _home(days=42), _home("trend_bedtime@7", days=42)
    injection = later.injections[0]
    assert (injection.kind.expected, injection.kind.subtype) == (AlertType.TREND, "bedtime")

    def bedtimes_h(home: SimulatedHome, first: int, last: int) -> list[float]:
        """Per evening: local hours after noon when the first long bedroom stay begins."""
        out = []
        for day in range(first, last):
            noon, next_noon = _local(day, 12), _local(day + 1, 12)
            sleep = next(
                s
                for s in home.stays(noon, next_noon)
                if s.place is Room.BEDROOM
                and s.start >= _local(day, 18).timestamp()
                and s.end - s.start >= 3600
            )
            out.append((sleep.start - noon.timestamp()) / 3600)
        return out

    before = bedtimes_h(later, 0, 7)
    assert before == bedtimes_h(plain, 0, 7), "nothing changes before the trend starts"
    drifted = sum(bedtimes_h(later, 30, 40)) / 10 - sum(bedtimes_h(plain, 30, 40)) / 10
    assert 1.2 < drifted < 1.8
    halfway = sum(bedtimes_h(later, 17, 19)) / 2 - sum(bedtimes_h(plain, 17, 19)) / 2
    assert 0.3 < halfway < drifted
