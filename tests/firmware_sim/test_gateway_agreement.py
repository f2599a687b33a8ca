"""Contract check: the gateway's Z2M normaliser derives the simulator's ground-truth events.

The simulator's `events()` are what a perfect gateway would make of its `messages()`. Fed
through the real gateway core, the same changes come out with the same event ids (times are
whole milliseconds, as `last_seen` carries them). The only difference allowed: the gateway
does not know a device's state before its first message, so it may report that first state.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dagritme.clock import ManualClock
from dagritme.models import Event
from firmware_sim.home import SimulatedHome
from firmware_sim.load import encode
from firmware_sim.personas import persona
from gateway.config import DeviceMapping
from gateway.normaliser import Normaliser


@pytest.mark.parametrize("name", ["typical", "dense"])
def test_gateway_turns_messages_into_the_simulated_events(name: str) -> None:
    home = SimulatedHome("hh-agree", persona(name), seed=3, include_last_seen=True)
    start = datetime(2026, 1, 6, tzinfo=UTC)
    end = start + timedelta(hours=12)
    clock = ManualClock(start)
    mappings = [
        DeviceMapping(friendly_name=d.friendly_name, sensor=d.sensor, kind=d.kind, room=d.room)
        for d in home.devices
    ]
    normaliser = Normaliser(home.household, mappings, clock)
    derived: list[Event] = []
    first_message: dict[str, datetime] = {}
    for message in home.messages(start, end):
        clock.set(max(clock.now(), message.ts))
        sensor = next(d.sensor for d in home.devices if d.friendly_name == message.topic_suffix)
        first_message.setdefault(sensor, message.ts)
        topic = f"zigbee2mqtt/{message.topic_suffix}"
        derived += [
            out for out in normaliser.handle(topic, encode(message, True)) if isinstance(out, Event)
        ]
    expected = list(home.events(start, end))
    initial = [e for e in derived if e.ts == first_message[e.sensor] and not e.active]
    assert len(initial) <= len(home.devices)
    assert [e.event_id for e in derived if e not in initial] == [e.event_id for e in expected]
    assert len(expected) > 100
