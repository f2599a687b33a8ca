"""Build contract events for store tests."""

from __future__ import annotations

from datetime import datetime

from dagritme.models import Event, Kind, Room, Value, make_event_id

PRESENCE = {Kind.MOTION: Value.ON, Kind.CONTACT: Value.ON, Kind.DOOR: Value.OPEN}
ABSENCE = {Kind.MOTION: Value.OFF, Kind.CONTACT: Value.OFF, Kind.DOOR: Value.CLOSED}


def event(
    ts: datetime,
    *,
    household: str = "hh-1",
    sensor: str = "M001",
    room: Room = Room.LIVING,
    kind: Kind = Kind.MOTION,
    active: bool = True,
    seq: int = 0,
) -> Event:
    value = PRESENCE[kind] if active else ABSENCE[kind]
    return Event(
        event_id=make_event_id(household, sensor, ts, value.value),
        household=household,
        sensor=sensor,
        kind=kind,
        room=room,
        value=value,
        ts=ts,
        seq=seq,
    )
