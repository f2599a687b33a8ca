"""Counting bad input per reason and device, and logging it once per device per period."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from enum import StrEnum

logger = logging.getLogger(__name__)


class Reason(StrEnum):
    """Why a home-broker message was not turned into an event."""

    OVERSIZED = "oversized"
    INVALID_UTF8 = "invalid_utf8"
    NOT_JSON = "not_json"
    NOT_AN_OBJECT = "not_an_object"
    WRONG_TYPE = "wrong_type"
    NO_STATE = "no_state"
    UNKNOWN_DEVICE = "unknown_device"
    BAD_AVAILABILITY = "bad_availability"
    BAD_LAST_SEEN = "bad_last_seen"
    STALE = "stale"
    CLOCK_SKEW = "clock_skew"


class RejectCounter:
    """Counts per (reason, device); logs a reason for a device at most once per period."""

    def __init__(self, log_period: timedelta = timedelta(hours=1)) -> None:
        self.counts: Counter[tuple[Reason, str]] = Counter()
        self._log_period = log_period
        self._last_logged: dict[tuple[Reason, str], datetime] = {}

    def count(self, reason: Reason, device: str, now: datetime, detail: str = "") -> None:
        key = (reason, device)
        self.counts[key] += 1
        last = self._last_logged.get(key)
        if last is None or now - last >= self._log_period:
            self._last_logged[key] = now
            # The device is a Zigbee2MQTT friendly name or sensor id from the installer's map,
            # never a resident's name; payload content is not logged.
            logger.warning(
                "rejected message from %r: %s%s (%d so far)",
                device[:80],
                reason.value,
                f" ({detail})" if detail else "",
                self.counts[key],
            )

    def by_reason(self) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for (reason, _device), number in self.counts.items():
            totals[reason.value] += number
        return dict(totals)

    def total(self) -> int:
        return sum(self.counts.values())
