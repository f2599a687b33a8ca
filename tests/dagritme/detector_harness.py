"""Events through the detector's own learning code (detector.learning), as the live service
and replay run it, with what it learned read back: each day's rising, the last presence."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from dagritme.models import Event
from dagritme.rhythm import MIN_PRESENCE_FOR_DAY
from detector.config import DetectorConfig
from detector.learning import Home, is_away, learn_event, roll_day, settle_rising
from detector.norms import compute_norms
from detector.state import HouseholdState


class LearningReplay:
    """One household's events, one at a time, through the detector's learning."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.thresholds = DetectorConfig().thresholds
        self.state = HouseholdState("harness")
        self.home = Home(self.state, tz, compute_norms(self.state, self.thresholds))
        self.tz = tz
        self.risings: dict[date, int | None] = {}

    def feed(self, event: Event) -> None:
        if not self.home.first_sight(event.event_id):
            return
        state = self.state
        local = event.ts.astimezone(self.tz)
        if local.toordinal() > state.day_ordinal >= 0:
            self._close_day(event.ts.timestamp())
        roll_day(self.home, local.toordinal(), self.thresholds)
        learn_event(self.home, event, event.ts.timestamp(), local, self.thresholds)

    def _close_day(self, now_ts: float) -> None:
        """The detector's ticks settle an open candidate BACK_TO_BED_S after it; settling
        at the first event of the next day gives the same answer, as none came between."""
        today = self.state.today
        settle_rising(today, now_ts)
        lived_in = today.presence >= MIN_PRESENCE_FOR_DAY
        self.risings[date.fromordinal(self.state.day_ordinal)] = (
            today.rising_minute if lived_in and today.rising_minute >= 0 else None
        )

    @property
    def away(self) -> bool:
        """The detector holds the resident out of home (left by the front door)."""
        return is_away(self.state, self.thresholds)

    @property
    def last_presence(self) -> datetime | None:
        ts = self.state.last_presence_ts
        return None if math.isnan(ts) else datetime.fromtimestamp(ts, UTC)


def detector_risings(events: Iterable[Event], tz: ZoneInfo) -> dict[date, int | None]:
    """Per local day closed by a later event: the rising minute the detector recorded, or
    None (no rising, or a day with too little presence to learn from, i.e. spent away)."""
    replay = LearningReplay(tz)
    for event in events:
        replay.feed(event)
    return replay.risings
