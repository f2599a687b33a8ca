"""Injected time: the live service reads the wall, replay and simulation advance by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...


class WallClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to (replay, simulation, tests).

    >>> from datetime import datetime, timedelta, UTC
    >>> clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    >>> clock.advance(timedelta(minutes=5)).isoformat()
    '2026-01-01T00:05:00+00:00'
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("ManualClock needs timezone-aware times")
        when = when.astimezone(UTC)
        if when < self._now:
            raise ValueError("ManualClock does not go backwards")
        self._now = when

    def advance(self, delta: timedelta) -> datetime:
        self.set(self._now + delta)
        return self._now


class AcceleratedClock:
    """Wall time sped up by a factor from a chosen start (demo and simulator)."""

    def __init__(self, start: datetime, speed: float, wall: Clock | None = None) -> None:
        if start.tzinfo is None:
            raise ValueError("AcceleratedClock needs a timezone-aware start")
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._wall = wall or WallClock()
        self._origin_wall = self._wall.now()
        self._origin = start.astimezone(UTC)
        self.speed = speed

    def now(self) -> datetime:
        return self._origin + (self._wall.now() - self._origin_wall) * self.speed

    def restart(self, start: datetime) -> None:
        """Start counting again from `start`, now (when the simulated world begins to move)."""
        self._origin_wall = self._wall.now()
        self._origin = start.astimezone(UTC)

    def wall_seconds(self, simulated: timedelta) -> float:
        """How many real seconds a stretch of simulated time takes."""
        return simulated.total_seconds() / self.speed


def floor_to(ts: datetime, step: timedelta) -> datetime:
    """Round an aware datetime down to a multiple of `step` since the epoch."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((ts - epoch) // step) * step
