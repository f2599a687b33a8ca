"""Shared helpers of the detector tests: a learned synthetic home and a replay runner."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dagritme.models import Alert, AlertStatus, AlertType, Event, Room, Value, make_event_id
from detector.config import DetectorConfig
from detector.core import Detector
from detector.replay import replay_events
from detector.synthetic import BY_ROOM, FRONT_DOOR, SyntheticHome

HOUSEHOLD = "hh-test"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
START = date(2026, 2, 2)  # a Monday


def local(day: date, at: time, tz: ZoneInfo = AMSTERDAM) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def replay(
    detector: Detector, events: Iterable[Event], until: datetime | None = None
) -> list[Alert]:
    return list(replay_events(detector, events, until=until))


def opened(alerts: Iterable[Alert], kind: AlertType | None = None) -> list[Alert]:
    return [a for a in alerts if a.status is AlertStatus.OPEN and (kind is None or a.type is kind)]


def warmed_up(days: int = 14, seed: int = 7) -> tuple[Detector, SyntheticHome, date, list[Alert]]:
    """A detector that has seen `days` regular days; returns it, the home and the next day."""
    home = SyntheticHome(HOUSEHOLD, AMSTERDAM, seed=seed)
    detector = Detector(DetectorConfig())
    alerts = replay(detector, home.events(START, days))
    return detector, home, START + timedelta(days=days), alerts


def door(ts: datetime, value: Value, seq: int = 0) -> Event:
    return Event(
        event_id=make_event_id(HOUSEHOLD, FRONT_DOOR.sensor, ts, f"{value}:{seq}"),
        household=HOUSEHOLD,
        sensor=FRONT_DOOR.sensor,
        kind=FRONT_DOOR.kind,
        room=FRONT_DOOR.room,
        value=value,
        ts=ts,
        seq=seq,
    )


def motion(room: Room, ts: datetime, seq: int = 0) -> Event:
    info = BY_ROOM[room]
    return Event(
        event_id=make_event_id(HOUSEHOLD, info.sensor, ts, f"on:{seq}"),
        household=HOUSEHOLD,
        sensor=info.sensor,
        kind=info.kind,
        room=info.room,
        value=Value.ON,
        ts=ts,
        seq=seq,
    )
