"""The rhythm rules that the detector and the dashboard must agree on, defined once.

Presence is someone there: motion starting, or a door or contact changing either way (a
motion sensor switching off is only its timeout running out). The rising is the first
activity outside the bed and bath rooms in the morning window, confirmed by a second such
event soon after outside the hall and entrance, or by no return to the bedroom within
`BACK_TO_BED_S`: early toilet visits (through the hall) and restlessness in the bedroom are
not rising, a return to bed undoes a candidate.

The detector follows the rule incrementally (one event at a time, settled by its ticks);
`rising_minute` is the same rule over one local day's observations at once, for the
dashboard, which reads them from the event store's per-room activity buckets.

>>> from dagritme.models import Room
>>> day = [
...     Presence(0.0, 310, Room.BATHROOM),  # 05:10, a toilet visit
...     Presence(60.0, 311, Room.LIVING),  # through the living room
...     Presence(300.0, 315, Room.BEDROOM),  # back to bed
...     Presence(8400.0, 450, Room.KITCHEN),  # 07:30
...     Presence(8460.0, 451, Room.KITCHEN),
... ]
>>> rising_minute(day)
450
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from dagritme.models import Kind, Room, Value

__all__ = [
    "BACK_TO_BED_S",
    "MIN_PRESENCE_FOR_DAY",
    "NOT_UP_ROOMS",
    "PASSAGE_ROOMS",
    "RISING_EARLIEST_MINUTE",
    "RISING_EVENTS",
    "RISING_LATEST_MINUTE",
    "RISING_WINDOW_S",
    "Presence",
    "RisingTracker",
    "is_presence",
    "minute_clock",
    "rising_minute",
]

RISING_EARLIEST_MINUTE = 240  # 04:00 local: earlier activity is night, never rising
RISING_LATEST_MINUTE = 900  # 15:00 local: not up by then is no rising that day
RISING_EVENTS = 2  # presence events outside bed/bath rooms within the window below
RISING_WINDOW_S = 30 * 60
BACK_TO_BED_S = 20 * 60  # a return to the bedroom within this undoes a candidate rising
NOT_UP_ROOMS = frozenset({Room.BEDROOM, Room.BATHROOM, Room.TOILET})
MIN_PRESENCE_FOR_DAY = 10  # a local day with fewer presence events was spent away
# Passed through on the way to the toilet at night: activity there starts a candidate
# rising but never confirms one; only no return to bed within BACK_TO_BED_S does.
PASSAGE_ROOMS = frozenset({Room.HALL, Room.ENTRANCE})


class Presence(NamedTuple):
    """One presence observation: when (UTC, seconds since the epoch), the home's local
    minute of the day at that moment, and the room."""

    ts: float
    minute: int
    room: Room


def is_presence(kind: Kind, value: Value | str) -> bool:
    """Someone was there: motion started, or a door or contact changed (either way)."""
    return kind is not Kind.MOTION or value == Value.ON


@dataclass(slots=True)
class RisingTracker:
    """The rising rule one observation at a time, over one local day in time order."""

    candidate_ts: float = -1.0  # first activity outside bed/bath rooms, unconfirmed
    candidate_minute: int = -1
    count: int = 0
    rising: int | None = None  # the local minute, once decided

    def observe(self, obs: Presence) -> int | None:
        """Take one observation; returns the rising minute once it is decided."""
        if self.rising is not None:
            return self.rising
        if self.candidate_ts >= 0 and obs.ts - self.candidate_ts > BACK_TO_BED_S:
            self.rising = self.candidate_minute  # not back to bed in time: that was it
            return self.rising
        if not RISING_EARLIEST_MINUTE <= obs.minute < RISING_LATEST_MINUTE:
            return None
        if obs.room is Room.BEDROOM:
            self.candidate_ts = -1.0  # back to bed: that was a night visit
            self.count = 0
            return None
        if obs.room in NOT_UP_ROOMS:
            return None
        if self.candidate_ts < 0 or obs.ts - self.candidate_ts > RISING_WINDOW_S:
            self.candidate_ts = obs.ts
            self.candidate_minute = obs.minute
            self.count = 0
        if obs.room not in PASSAGE_ROOMS:
            self.count += 1
        if self.count >= RISING_EVENTS:
            self.rising = self.candidate_minute
        return self.rising

    def settle(self) -> int | None:
        """The day is over (or its morning window is): an open candidate was the rising,
        as the detector's ticks settle it BACK_TO_BED_S after it."""
        if self.rising is None and self.candidate_ts >= 0:
            self.rising = self.candidate_minute
        return self.rising


def rising_minute(observations: Iterable[Presence]) -> int | None:
    """The local minute of the day's rising, or None when there was none.

    `observations` are one local day's presence, in time order; they are read only up to
    the decision. A candidate still open after the last one is settled, as the detector's
    ticks settle it later that day.
    """
    tracker = RisingTracker()
    for obs in observations:
        if tracker.observe(obs) is not None:
            return tracker.rising
    return tracker.settle()


def minute_clock(minute: float) -> str:
    """A minute of the day as local clock time, "HH:MM"."""
    whole = int(minute) % 1440
    return f"{whole // 60:02d}:{whole % 60:02d}"
