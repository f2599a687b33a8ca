"""Turning findings into contract alerts: stable ids, plain-language time formats, and the
sentences that state a learned norm (shared by the alert messages and the detector status,
so a carer reads the same words in both)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from dagritme.models import Alert, AlertStatus, AlertType, Evidence, Resolution, Severity
from dagritme.rhythm import minute_clock


@dataclass(frozen=True, slots=True)
class Finding:
    """What a rule found; becomes an `Alert` when no alert of its key is open yet."""

    type: AlertType
    severity: Severity
    message: str
    evidence: Evidence = field(default_factory=Evidence)
    subtype: str | None = None


def make_alert_id(household: str, key: str, opened: datetime) -> str:
    raw = f"{household}|{key}|{opened.isoformat()}"
    return hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()


def open_alert(household: str, key: str, finding: Finding, now: datetime) -> Alert:
    return Alert(
        alert_id=make_alert_id(household, key, now),
        ts=now,
        household=household,
        type=finding.type,
        subtype=finding.subtype,
        severity=finding.severity,
        message=finding.message[:1000],
        evidence=finding.evidence,
    )


def resolved(alert: Alert, now: datetime, resolution: Resolution = Resolution.AUTO) -> Alert:
    return alert.model_copy(
        update={"status": AlertStatus.RESOLVED, "resolved_ts": now, "resolution": resolution}
    )


def clock(local: datetime) -> str:
    return local.strftime("%H:%M")


def duration(minutes: float) -> str:
    """'45 min', '3 h 10 min', '2 days 4 h'."""
    total = int(round(minutes))
    if total < 60:
        return f"{total} min"
    hours, mins = divmod(total, 60)
    if hours < 48:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h" if hours else f"{days} days"


def usual_rising(usual_minute: int, on_days: int, days: int, day_kind: str) -> str:
    """ "Usually up by 07:40, on 19 of the last 20 weekdays"."""
    kind = f" {day_kind}" if day_kind else " days"
    return f"Usually up by {minute_clock(usual_minute)}, on {on_days} of the last {days}{kind}"


def usual_bedtime(after_noon_minute: int, on_nights: int, nights: int) -> str:
    """ "Usually in bed by 23:10, on 18 of the last 20 nights" (minutes after local noon)."""
    return (
        f"Usually in bed by {minute_clock(after_noon_minute + 720)}, on {on_nights} of the last "
        f"{nights} nights"
    )


def usual_outings(away_usual: float) -> str:
    return f"Outings usually last up to {duration(away_usual)}"


def usual_bathroom(limit: float) -> str:
    return f"Bathroom visits usually end within {duration(limit)}"


def usual_nights(restless_usual: float) -> str:
    minutes = round(restless_usual)
    unit = "minute" if minutes == 1 else "minutes"
    return f"Usually up to {minutes} active {unit} outside the bedroom and bathroom at night"
