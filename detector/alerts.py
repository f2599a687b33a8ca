"""Turning findings into contract alerts: stable ids, plain-language time formats."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from dagritme.models import Alert, AlertStatus, AlertType, Evidence, Resolution, Severity


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


def minute_clock(minute: int) -> str:
    minute = int(minute) % 1440
    return f"{minute // 60:02d}:{minute % 60:02d}"


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
