"""The escalation chain: contacts are notified by position (0 first); when nobody has
acknowledged an open alert within the configured time, the next position is notified."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from dagritme.models import Alert
from dashboard.alert_store import StoredAlert, get_alert
from dashboard.db import Database, from_db_ts
from dashboard.notify import Notifier, recipients

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Escalation:
    alert: StoredAlert
    position: int


def due_escalations(db: Database, now: datetime, after: timedelta) -> list[Escalation]:
    """Open, unacknowledged alerts whose last notified level has waited long enough."""
    rows = db.query(
        "SELECT n.alert_id, MAX(c.position) AS level, MAX(n.created_ts) AS last_ts"
        " FROM notifications n JOIN contacts c ON c.id = n.contact_id"
        " JOIN alerts a ON a.alert_id = n.alert_id"
        " WHERE a.status = 'open' GROUP BY n.alert_id"
    )
    due: list[Escalation] = []
    for row in rows:
        if now - from_db_ts(row["last_ts"]) < after:
            continue
        alert = get_alert(db, row["alert_id"])
        if alert is None:
            continue
        later = sorted(
            {c.position for c in recipients(db, alert.household, now) if c.position > row["level"]}
        )
        if later:
            due.append(Escalation(alert, later[0]))
    return due


def as_contract_alert(alert: StoredAlert) -> Alert:
    return Alert(
        alert_id=alert.alert_id,
        ts=alert.ts,
        household=alert.household,
        type=alert.type,
        subtype=alert.subtype,
        severity=alert.severity,
        message=alert.message,
        evidence=alert.evidence,
    )


async def escalate(notifier: Notifier, db: Database, now: datetime, after: timedelta) -> int:
    """One tick: notify the next level for every due alert; returns how many escalated."""
    due = due_escalations(db, now, after)
    for escalation in due:
        logger.info(
            "escalating alert %s to position %d", escalation.alert.alert_id, escalation.position
        )
        await notifier.notify(as_contract_alert(escalation.alert), position=escalation.position)
    return len(due)
