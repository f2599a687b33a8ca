"""Device health (availability, battery, link quality, last seen): state, not history.

A report goes out when something changed that is news on its own (availability, a whole
battery percent, a large link-quality move) or, with `detail`, when the last one is older
than `interval`. Without `detail` (sharing other than "events") link quality, last seen and
periodic reports are left out: they would follow the resident's activity.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from dagritme.models import Availability, DeviceHealth
from gateway.sources import Reading

logger = logging.getLogger(__name__)

# Linkquality wobbles constantly; only a move this large is news on its own.
LINKQUALITY_STEP = 30


@dataclass(slots=True)
class _Health:
    availability: Availability = Availability.ONLINE
    battery: float | None = None
    linkquality: int | None = None
    last_seen: datetime | None = None
    published: DeviceHealth | None = None


class HealthTracker:
    """The health of each sensor of one household, and when to report it."""

    def __init__(
        self, household: str, sensors: list[str], *, interval: timedelta, detail: bool
    ) -> None:
        self.household = household
        self.interval = interval
        self.detail = detail
        self._health = {sensor: _Health() for sensor in sensors}

    def heard(self, sensor: str, reading: Reading, now: datetime) -> bool:
        """The sensor talked: update its health; True when the change is news on its own."""
        health = self._health[sensor]
        changed = False
        level = reading.battery
        if level is not None:
            changed = health.battery is None or round(level) != round(health.battery)
            health.battery = level
        quality = reading.linkquality
        if quality is not None:
            if self.detail and (
                health.linkquality is None or abs(quality - health.linkquality) >= LINKQUALITY_STEP
            ):
                changed = True
            health.linkquality = quality
        health.last_seen = now
        if health.availability is Availability.OFFLINE:
            # A device that talks is online, whatever the last availability message said.
            health.availability = Availability.ONLINE
            changed = True
        return changed

    def report(self, sensor: str, now: datetime, force: bool) -> DeviceHealth | None:
        """A report when forced or due, else None."""
        health = self._health[sensor]
        previous = health.published
        due = self.detail and (previous is None or now - previous.ts >= self.interval)
        if not (force or due):
            return None
        report = DeviceHealth(
            household=self.household,
            sensor=sensor,
            ts=now,
            availability=health.availability,
            battery=health.battery,
            linkquality=health.linkquality if self.detail else None,
            last_seen=health.last_seen if self.detail else None,
        )
        health.published = report
        return report

    def set_availability(
        self, sensor: str, availability: Availability, now: datetime
    ) -> DeviceHealth | None:
        health = self._health[sensor]
        if availability is health.availability and health.published is not None:
            return None
        if availability is not health.availability:
            logger.info("sensor %s is now %s", sensor, availability.value)
        health.availability = availability
        return self.report(sensor, now, force=True)
