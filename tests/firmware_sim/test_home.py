"""The simulated home: deterministic per seed, window-independent, Z2M-like devices."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest

from dagritme.models import Kind, Room, Value
from firmware_sim.devices import DEVICE_MODELS
from firmware_sim.home import Noise, SimulatedHome
from firmware_sim.personas import LAYOUTS, PERSONAS, persona


def _snapshot(home: SimulatedHome, start: datetime, days: int) -> list[tuple[object, ...]]:
    end = start + timedelta(days=days)
    return [(m.ts, m.topic_suffix, str(m.payload)) for m in home.messages(start, end)]


def test_same_seed_same_home(monday: datetime) -> None:
    first = SimulatedHome("hh-a", persona("typical"), seed=7)
    again = SimulatedHome("hh-a", persona("typical"), seed=7)
    assert _snapshot(first, monday, 2) == _snapshot(again, monday, 2)
    other_seed = SimulatedHome("hh-a", persona("typical"), seed=8)
    assert _snapshot(first, monday, 2) != _snapshot(other_seed, monday, 2)


def test_a_day_looks_the_same_whatever_the_window(
    typical_home: SimulatedHome, monday: datetime
) -> None:
    middle = monday + timedelta(days=1, hours=13)
    end = monday + timedelta(days=3)
    whole = [(e.ts, e.sensor, e.value) for e in typical_home.events(monday, end)]
    halves = [
        (e.ts, e.sensor, e.value)
        for part in ((monday, middle), (middle, end))
        for e in typical_home.events(*part)
    ]
    assert whole == halves


def test_events_are_valid_ordered_state_changes(
    typical_home: SimulatedHome, monday: datetime
) -> None:
    events = list(typical_home.events(monday, monday + timedelta(days=2)))
    assert len(events) > 200
    assert [e.ts for e in events] == sorted(e.ts for e in events)
    assert len({e.event_id for e in events}) == len(events)
    last: dict[str, Value] = {}
    for event in events:
        assert last.get(event.sensor) != event.value, "an event is a change, not a repeat"
        last[event.sensor] = event.value
    sensors = {d.sensor for d in typical_home.devices}
    assert {e.sensor for e in events} == sensors


def test_motion_goes_off_after_the_occupancy_timeout(
    typical_home: SimulatedHome, monday: datetime
) -> None:
    changes = typical_home.state_changes(monday, monday + timedelta(days=1))
    on_at: dict[str, float] = {}
    for change in changes:
        if change.spec.kind is not Kind.MOTION:
            continue
        if change.active:
            on_at[change.spec.sensor] = change.ts
        elif change.spec.sensor in on_at:
            timeout = DEVICE_MODELS[change.spec.model].occupancy_timeout_s
            assert change.ts - on_at.pop(change.spec.sensor) >= timeout - 1e-6


def test_heartbeats_repeat_the_cached_state(typical_home: SimulatedHome, monday: datetime) -> None:
    messages = list(typical_home.messages(monday, monday + timedelta(days=1)))
    per_device = Counter(m.topic_suffix for m in messages)
    changes = Counter(
        c.spec.friendly_name for c in typical_home.state_changes(monday, monday + timedelta(days=1))
    )
    for name, count in changes.items():
        assert per_device[name] > count, "Z2M publishes more messages than state changes"
    for message in messages:
        assert isinstance(message.payload, dict)
        assert 0 <= message.payload["battery"] <= 100
        assert 0 <= message.payload["linkquality"] <= 255


def test_door_opens_and_closes_when_going_out(monday: datetime) -> None:
    home = SimulatedHome("hh-door", persona("typical"), seed=3)
    events = list(home.events(monday, monday + timedelta(days=7)))
    door = [e for e in events if e.is_exterior_door]
    assert door, "a week without going out is not the typical persona"
    assert {e.value for e in door} == {Value.OPEN, Value.CLOSED}


@pytest.mark.parametrize("name", sorted(PERSONAS))
def test_every_persona_lives_a_plausible_week(name: str, monday: datetime) -> None:
    home = SimulatedHome(f"hh-{name.replace('_', '-')}", persona(name), seed=11)
    events = list(home.events(monday, monday + timedelta(days=7)))
    per_day = len([e for e in events if e.active]) / 7
    assert 20 < per_day < 400
    rooms = {e.room for e in events}
    assert {Room.BEDROOM, Room.BATHROOM, Room.KITCHEN} <= rooms
    assert len(home.devices) == len(LAYOUTS[persona(name).layout])


def test_layouts_have_the_sizes_the_issue_asks_for() -> None:
    assert len(LAYOUTS["sparse"]) == 4
    assert len(LAYOUTS["dense"]) == 10


def test_noise_duplicates_reorders_and_drops(monday: datetime) -> None:
    clean = SimulatedHome("hh-noise", persona("typical"), seed=5)
    noisy = SimulatedHome("hh-noise", persona("typical"), seed=5, noise=Noise(0.05, 0.05, 0.05))
    end = monday + timedelta(days=1)
    clean_messages = list(clean.messages(monday, end))
    noisy_messages = list(noisy.messages(monday, end))
    assert noisy_messages != clean_messages
    keys = Counter((m.ts, m.topic_suffix) for m in noisy_messages)
    assert any(n == 2 for n in keys.values()), "some duplicates"
    assert len(set(keys)) < len(clean_messages), "some dropped"
    stamps = [m.ts for m in noisy_messages]
    assert stamps != sorted(stamps), "some out of order"


def test_last_seen_is_the_message_time(monday: datetime) -> None:
    home = SimulatedHome("hh-ls", persona("sparse"), seed=5, include_last_seen=True)
    message = next(iter(home.messages(monday, monday + timedelta(hours=6))))
    assert isinstance(message.payload, dict)
    stamp = datetime.fromisoformat(message.payload["last_seen"].replace("Z", "+00:00"))
    assert abs((stamp - message.ts).total_seconds()) < 0.001


def test_times_are_whole_milliseconds_like_last_seen(monday: datetime) -> None:
    home = SimulatedHome("hh-ms", persona("dense"), seed=2)
    events = list(home.events(monday, monday + timedelta(days=1)))
    assert events
    assert all(e.ts.microsecond % 1000 == 0 for e in events)


def test_spurious_triggers_break_a_silence(monday: datetime) -> None:
    quiet = SimulatedHome("hh-sp", persona("typical"), seed=4, noise=Noise(spurious_per_day=0))
    jumpy = SimulatedHome("hh-sp", persona("typical"), seed=4, noise=Noise(spurious_per_day=3))
    end = monday + timedelta(days=4)
    for home in (quiet, jumpy):
        home.inject("fall", monday + timedelta(days=1, hours=9), timedelta(days=2))
    fall = quiet.injections[0]

    def during(home: SimulatedHome) -> list[datetime]:
        return [
            e.ts for e in home.events(monday, end) if e.active and fall.start <= e.ts < fall.end
        ]

    assert during(quiet) == []
    assert 4 <= len(during(jumpy)) <= 40  # 5 motion sensors, 3 a day each, over two days
    halves = [e.ts for part in ((monday, fall.start + timedelta(hours=20)),
                                (fall.start + timedelta(hours=20), end))
              for e in jumpy.events(*part)]  # fmt: skip
    assert halves == [e.ts for e in jumpy.events(monday, end)]
