"""Pure rules for a household's traffic light and the nurse's urgency order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from dagritme.models import Severity
from store.base import DailyAggregate


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
