"""Edge mode: a detector beside the gateway, so only alerts and summaries leave the home.

`LocalDetector` is the hook the gateway calls; `detector.core.Detector` fulfils it, and any
object with the same two methods does (tests use a small real one). `DailySummaries` counts
presence events per room per local day: the only trace of raw events that leaves the home
with `sharing = "summaries"`.

What may leave the home besides: `LEAVES_THE_HOME` names the channels, per sharing level.
The detector's learning status (`LearningReporter`, fulfilled by `detector.status.
StatusTracker`) leaves at every level: day counts and the plain-language norms of its alert
messages describe the model, not the resident's events.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from dagritme import topics
from dagritme.models import (
    Alert,
    DetectorStatus,
    Event,
    HouseholdId,
    Room,
    UtcDatetime,
)
from gateway.config import Sharing

# Besides the gateway's own status, heartbeat and device health.
LEAVES_THE_HOME: dict[Sharing, frozenset[topics.Channel]] = {
    Sharing.EVENTS: frozenset(
        {topics.Channel.EVENTS, topics.Channel.ALERTS, topics.Channel.DETECTOR_STATUS}
    ),
    Sharing.SUMMARIES: frozenset(
        {topics.Channel.SUMMARIES, topics.Channel.ALERTS, topics.Channel.DETECTOR_STATUS}
    ),
    Sharing.ALERTS_ONLY: frozenset({topics.Channel.ALERTS, topics.Channel.DETECTOR_STATUS}),
}


class LocalDetector(Protocol):
    """What the gateway needs from a detector that runs in the home."""

    def observe(self, event: Event) -> list[Alert]:
        """Learn from one event; alerts it resolves or raises at once."""
        ...

    def tick(self, now: datetime) -> list[Alert]:
        """Time-based checks (inactivity, not up, ...) at `now`."""
        ...


class LearningReporter(Protocol):
    """What the gateway needs to report the local detector's learning progress."""

    def scan(self, now: datetime) -> list[DetectorStatus]:
        """Statuses that changed (new local day, new progress) since the last scan."""
        ...


def learning_statuses(
    reporter: LearningReporter, household: str, sharing: Sharing, now: datetime
) -> list[DetectorStatus]:
    """The learning statuses due for the central broker (this home's only). They are state,
    not history: the upstream side sends the latest one retained, again after a reconnect."""
    if topics.Channel.DETECTOR_STATUS not in LEAVES_THE_HOME[sharing]:
        return []
    return [status for status in reporter.scan(now) if status.household == household]


class DailySummary(BaseModel):
    """Presence events per room over one local day (edge mode, `sharing = "summaries"`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    household: HouseholdId
    day: date = Field(description="Local calendar day of the home.")
    ts: UtcDatetime = Field(description="When the summary was made.")
    active_by_room: dict[Room, int] = Field(description="Presence events per room.")
    total_events: int = Field(ge=0, description="All state changes that day.")


def summaries_topic(household: str) -> str:
    """`dagritme/v1/<household>/summaries`."""
    return topics.summaries(household)


# Key of a day's total in `DayCounts` (rooms are lowercase words, so this cannot clash).
TOTAL = "*"
# Per local day: room -> presence events, and TOTAL -> all state changes.
DayCounts = dict[date, dict[str, int]]


class DailySummaries:
    """Accumulates per-day counts; `due(now)` hands out the days that have ended.

    The gateway persists the counts of the days still open (`take_dirty`, `restore`) in the
    queue's transaction, so a restart mid-day neither loses nor double-counts events.
    """

    def __init__(self, household: str, timezone: str) -> None:
        self.household = household
        self.zone = ZoneInfo(timezone)
        self._active: dict[date, Counter[Room]] = {}
        self._total: Counter[date] = Counter()
        self._dirty: set[date] = set()

    def add(self, event: Event) -> None:
        day = event.ts.astimezone(self.zone).date()
        self._total[day] += 1
        counts = self._active.setdefault(day, Counter())
        if event.active:
            counts[event.room] += 1
        self._dirty.add(day)

    def due(self, now: datetime) -> list[DailySummary]:
        today = now.astimezone(self.zone).date()
        finished = sorted(day for day in self._total if day < today)
        summaries = [
            DailySummary(
                household=self.household,
                day=day,
                ts=now,
                active_by_room=dict(self._active.pop(day, Counter())),
                total_events=self._total.pop(day),
            )
            for day in finished
        ]
        self._dirty.difference_update(finished)
        return summaries

    def take_dirty(self) -> DayCounts:
        """The full counts of each day changed since the last call."""
        dirty = {day: self._counts(day) for day in self._dirty if day in self._total}
        self._dirty = set()
        return dirty

    def restore(self, counts: DayCounts) -> None:
        """Replace all counts with persisted ones (after a restart or a failed commit)."""
        self._active = {
            day: Counter({Room(room): n for room, n in rooms.items() if room != TOTAL})
            for day, rooms in counts.items()
        }
        self._total = Counter({day: rooms.get(TOTAL, 0) for day, rooms in counts.items()})
        self._dirty = set()

    def _counts(self, day: date) -> dict[str, int]:
        counts = {room.value: n for room, n in self._active.get(day, Counter()).items()}
        counts[TOTAL] = self._total[day]
        return counts
