"""Pure rules for a household's traffic light, the nurse's urgency order and what "last
activity" means."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from dagritme.models import Severity, Value
from store.base import ActivityBucket, DailyAggregate, SensorLastSeen


class Light(StrEnum):
    RED = "red"  # an urgent alert is open and nobody has acknowledged it
    AMBER = "amber"  # a warning is open, or the gateway is offline
    NO_DATA = "no_data"  # data stopped arriving: nothing can be said about today
    GREEN = "green"  # nothing open, and data keeps arriving
    GREY = "grey"  # monitoring paused by the resident


URGENCY = {Light.RED: 0, Light.AMBER: 1, Light.NO_DATA: 1, Light.GREEN: 2, Light.GREY: 3}


def traffic_light(
    worst_open: Severity | None, gateway_online: bool | None, paused: bool, no_data: bool = False
) -> Light:
    """Paused, then urgent, then warning, then stopped data, then an offline gateway."""
    if paused:
        return Light.GREY
    if worst_open is Severity.URGENT:
        return Light.RED
    if worst_open is Severity.WARNING:
        return Light.AMBER
    if no_data:
        return Light.NO_DATA
    if gateway_online is False:
        return Light.AMBER
    return Light.GREEN


def urgency_key(light: Light, latest_alert: datetime | None, name: str) -> tuple[int, float, str]:
    """Sort key: worst light first, then the most recent alert, then by name."""
    recency = -latest_alert.timestamp() if latest_alert else 0.0
    return (URGENCY[light], recency, name)


class LearningSource(StrEnum):
    DETECTOR = "detector"  # the retained status the detector publishes
    ESTIMATE = "estimate"  # days with data in the event store, until the detector reports


@dataclass(frozen=True, slots=True)
class LearningProgress:
    days_with_data: int
    days_needed: int

    @property
    def fraction(self) -> float:
        return min(1.0, self.days_with_data / self.days_needed)

    @property
    def learned(self) -> bool:
        return self.days_with_data >= self.days_needed


def learning_progress(daily: list[DailyAggregate], days_needed: int) -> LearningProgress:
    return LearningProgress(sum(1 for d in daily if d.events > 0), days_needed)


def local_today(now: datetime, tz: str) -> date:
    return now.astimezone(ZoneInfo(tz)).date()


def learning_window(now: datetime, tz: str, days_needed: int) -> tuple[date, date]:
    """Local days looked at for learning progress: twice what is needed, up to today."""
    today = local_today(now, tz)
    return today - timedelta(days=2 * days_needed), today + timedelta(days=1)


# "Last activity" is the detector's presence (dagritme.rhythm.is_presence): motion starting,
# or a door or contact changing either way. A motion sensor switching off is its timeout
# running out, not a person moving; it still counts as data for freshness ("no data since").
# The store's latest change per sensor does not say the kind, and only "off" is ambiguous
# (motion off is no presence, contact off is).
NOT_PRESENCE_VALUE = Value.OFF.value
# Where to look for the "on" before a motion sensor's "off", nearest first: a timeout is
# a minute or two, but a presence sensor stays "on" for as long as someone sits still.
PRESENCE_LOOKBACKS = (timedelta(hours=1), timedelta(days=1))
EXACT_PRESENCE_BUCKET = timedelta(milliseconds=1)  # the store's buckets, as fine as events


def certain_presence(last_seen: Sequence[SensorLastSeen]) -> datetime | None:
    """The newest latest change that is presence whatever the sensor's kind."""
    return max((s.ts for s in last_seen if s.value != NOT_PRESENCE_VALUE), default=None)


def presence_search_windows(last_seen: Sequence[SensorLastSeen]) -> list[tuple[datetime, datetime]]:
    """Where a newer presence than `certain_presence` may be, nearest first: before the
    newest "off" (each follows its sensor's "on"), never before the certain presence.
    Empty when no "off" is newer than the certain presence."""
    certain = certain_presence(last_seen)
    newest_off = max((s.ts for s in last_seen if s.value == NOT_PRESENCE_VALUE), default=None)
    if newest_off is None or (certain is not None and newest_off <= certain):
        return []
    windows: list[tuple[datetime, datetime]] = []
    end = newest_off + EXACT_PRESENCE_BUCKET
    for lookback in PRESENCE_LOOKBACKS:
        start = newest_off - lookback if certain is None else max(newest_off - lookback, certain)
        if start < end:
            windows.append((start, end))
        end = start
    return windows


def last_presence(certain: datetime | None, recent: Sequence[ActivityBucket]) -> datetime | None:
    """The newest of the certain presence and the presence buckets found in the window."""
    newest = max((b.start for b in recent if b.count > 0), default=None)
    if newest is None or (certain is not None and certain >= newest):
        return certain
    return newest
