"""The fixed-rule baseline the learned detector is scored against.

Three rules that commercial "activity monitoring" often ships with: no activity for 12 h,
not up by 10:00 (no presence outside bedroom and bathroom since 04:00), exterior door opened
between 00:00 and 06:00. Same interface as the core (`observe`, `tick`), no learning.
"""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from dagritme.models import Alert, AlertType, Event, Severity
from dagritme.rhythm import NOT_UP_ROOMS
from detector.alerts import Finding, clock, open_alert
from detector.learning import is_presence
from detector.state import alert_key

NO_ACTIVITY_S = 12 * 3600
NOT_UP_MINUTE = 10 * 60
MORNING_FROM_MINUTE = 4 * 60
NIGHT_DOOR_HOURS = range(0, 6)


class FixedRuleBaseline:
    """One household's fixed rules; raises each alert at most once per episode."""

    def __init__(self, household: str, tz: ZoneInfo) -> None:
        self.household = household
        self.tz = tz
        self._last_presence = math.nan
        self._silence_alerted = False
        self._up_day = -1  # local ordinal of the last day with presence outside bed/bath
        self._not_up_day = -1

    def _alert(self, kind: AlertType, message: str, now: datetime) -> Alert:
        finding = Finding(kind, Severity.WARNING, message)
        return open_alert(self.household, alert_key(kind), finding, now)

    def observe(self, event: Event) -> list[Alert]:
        if not is_presence(event):
            return []
        ts = event.ts.timestamp()
        if math.isnan(self._last_presence) or ts > self._last_presence:
            self._last_presence = ts
        self._silence_alerted = False
        local = event.ts.astimezone(self.tz)
        if event.room not in NOT_UP_ROOMS and local.hour * 60 + local.minute >= MORNING_FROM_MINUTE:
            self._up_day = local.toordinal()
        if event.is_exterior_door and event.active and local.hour in NIGHT_DOOR_HOURS:
            return [
                self._alert(AlertType.NIGHT_DOOR, f"Front door opened at {clock(local)}.", event.ts)
            ]
        return []

    def tick(self, now: datetime) -> list[Alert]:
        out: list[Alert] = []
        if math.isnan(self._last_presence):
            return out
        if not self._silence_alerted and now.timestamp() - self._last_presence >= NO_ACTIVITY_S:
            self._silence_alerted = True
            out.append(self._alert(AlertType.INACTIVITY, "No activity for 12 hours.", now))
        local = now.astimezone(self.tz)
        today = local.toordinal()
        if (
            local.hour * 60 + local.minute >= NOT_UP_MINUTE
            and self._up_day != today
            and self._not_up_day != today
        ):
            self._not_up_day = today
            out.append(self._alert(AlertType.NOT_UP, "Not up by 10:00.", now))
        return out
