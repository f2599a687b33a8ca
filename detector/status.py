"""The detector's own learning progress, as the retained `DetectorStatus` of each household.

`detector_status` is the pure part (norms in, status out); `StatusTracker` decides which
households' statuses changed and are due, cheaply enough to run after every tick: a
household is looked at again only when its learning progress or its local day changed, and
at most `per_scan` statuses are computed a scan, because all homes of a time zone roll at
the same local midnight (the same amortisation as the core's norm refreshes).

The "usual" statements are the sentences of the alert messages (detector.alerts), so a
carer reads the same words in the status as in an alert.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from dagritme.models import DetectorStatus
from detector.alerts import (
    usual_bathroom,
    usual_bedtime,
    usual_nights,
    usual_outings,
    usual_rising,
)
from detector.config import Thresholds
from detector.core import Detector
from detector.norms import Norms, RisingNorm

STATUSES_PER_SCAN = 500


def _rising(norm: RisingNorm) -> str | None:
    if norm.partial or norm.usual_minute is None:
        return None
    return usual_rising(norm.usual_minute, norm.on_days, norm.days, norm.day_kind)


def _bedtime(norms: Norms) -> str | None:
    norm = norms.bedtime
    return None if norm is None else usual_bedtime(norm.usual_minute, norm.on_nights, norm.nights)


def _outings(norms: Norms) -> str | None:
    return None if norms.away_usual is None else usual_outings(norms.away_usual)


def _bathroom(norms: Norms) -> str | None:
    """None when this home's sensors cannot delimit a visit."""
    return usual_bathroom(norms.bathroom_limit) if math.isfinite(norms.bathroom_limit) else None


def _nights(norms: Norms) -> str | None:
    return None if norms.restless_usual is None else usual_nights(norms.restless_usual)


@dataclass(frozen=True, slots=True)
class UsualStatement:
    """One learned norm worth telling a carer, and how to say it."""

    name: str
    say: Callable[[Norms], str | None]


USUAL_STATEMENTS: list[UsualStatement] = [
    UsualStatement("rising_weekdays", lambda norms: _rising(norms.rising[0])),
    # the weekend's own norm only: while weekend days are few it is the all-days one again
    UsualStatement(
        "rising_weekend",
        lambda norms: _rising(norms.rising[1]) if norms.rising[1].day_kind else None,
    ),
    UsualStatement("bedtime", _bedtime),
    UsualStatement("outings", _outings),
    UsualStatement("bathroom", _bathroom),
    UsualStatement("nights", _nights),
]


def usual_statements(norms: Norms) -> list[str]:
    """What the detector currently holds usual, in plain words; empty while learning."""
    if not norms.learned:
        return []
    said: list[str] = []
    for statement in USUAL_STATEMENTS:
        text = statement.say(norms)
        if text and text not in said:  # weekdays and weekend share a norm while days are few
            said.append(text)
    return said


def detector_status(household: str, now: datetime, norms: Norms, th: Thresholds) -> DetectorStatus:
    """The status of one household from the norms its rules use right now."""
    needed = th.learning_days
    seen = needed if norms.learned else min(needed - 1, round(norms.progress * needed))
    return DetectorStatus(
        household=household,
        ts=now,
        learning_days_seen=seen,
        learning_days_needed=needed,
        progress=seen / needed,
        learned=norms.learned,
        usual=usual_statements(norms),
    )


class StatusTracker:
    """Which households have a new status to publish, and the latest one of each."""

    def __init__(self, detector: Detector, per_scan: int = STATUSES_PER_SCAN) -> None:
        self.detector = detector
        self.per_scan = per_scan
        self._seen: dict[str, tuple[date, float]] = {}  # local day and progress last looked at
        self._pending: dict[str, None] = {}  # an ordered set: first come, first computed
        self._latest: dict[str, DetectorStatus] = {}

    def scan(self, now: datetime) -> list[DetectorStatus]:
        """Statuses due: new households, a changed progress, or a new local day (the norms,
        and so the usual statements, are recomputed at midnight); at most `per_scan`."""
        config = self.detector.config
        days: dict[str, date] = {}
        for household in self.detector.households():
            zone = config.timezones.get(household, config.default_timezone)
            day = days.get(zone)
            if day is None:
                day = days[zone] = now.astimezone(ZoneInfo(zone)).date()
            key = (day, self.detector.learning_progress(household))
            if self._seen.get(household) != key:
                self._seen[household] = key
                self._pending[household] = None
        changed: list[DetectorStatus] = []
        for household in list(self._pending)[: self.per_scan]:
            del self._pending[household]
            status = detector_status(
                household, now, self.detector.norms(household), config.thresholds
            )
            self._latest[household] = status
            changed.append(status)
        return changed

    def latest(self) -> list[DetectorStatus]:
        """The last status handed out for every household (to publish again after a
        reconnect: a broker without persistence forgets retained messages)."""
        return list(self._latest.values())

    @property
    def pending(self) -> int:
        return len(self._pending)


__all__ = [
    "USUAL_STATEMENTS",
    "StatusTracker",
    "UsualStatement",
    "detector_status",
    "usual_statements",
]
