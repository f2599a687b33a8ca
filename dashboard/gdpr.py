"""GDPR rights: export everything about a household (JSON and CSV in a zip) and erase it
from every store. Consent records and the access log are kept: they prove what happened."""

from __future__ import annotations

import csv
import io
import json
import logging
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from dagritme.models import dump
from dashboard.accounts import User
from dashboard.alert_store import device_health, list_alerts
from dashboard.consent_actions import consent_state
from dashboard.context import AppContext
from dashboard.db import to_db_ts
from dashboard.detector_status import get_detector_status
from dashboard.households import Household, access_log, log_access

logger = logging.getLogger(__name__)

EVENT_FIELDS = ("ts", "sensor", "kind", "room", "value", "event_id", "seq")
ALERT_FIELDS = (
    "alert_id",
    "ts",
    "type",
    "subtype",
    "severity",
    "status",
    "message",
    "resolution",
    "ack_by",
    "ack_note",
    "resolved_by",
    "resolution_note",
)


def _csv(rows: Iterable[dict[str, Any]], fields: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(fields), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def export_zip(ctx: AppContext, household: Household) -> bytes:
    """Every piece of data about the household, readable by people and machines."""
    events = [dump(event) for event in ctx.event_store.export(household.id)]
    alerts = [
        {
            "alert_id": a.alert_id,
            "ts": a.ts.isoformat(),
            "type": a.type.value,
            "subtype": a.subtype,
            "severity": a.severity.value,
            "status": a.status.value,
            "message": a.message,
            "evidence": a.evidence.model_dump(mode="json"),
            "resolution": a.resolution.value if a.resolution else None,
            "ack_by": a.ack_by,
            "ack_note": a.ack_note,
            "resolved_by": a.resolved_by,
            "resolution_note": a.resolution_note,
        }
        for a in list_alerts(ctx.db, household.id, limit=1_000_000)
    ]
    consents = consent_state(ctx, household.id).model_dump(mode="json")
    accesses = [
        {
            "ts": e.ts.isoformat(),
            "username": e.username,
            "role": e.role,
            "action": e.action,
            "on_behalf_of": e.on_behalf_of,
        }
        for e in access_log(ctx.db, household.id, limit=1_000_000)
    ]
    devices = [
        {
            "sensor": d.sensor,
            "ts": d.ts.isoformat(),
            "availability": d.availability,
            "battery": d.battery,
            "linkquality": d.linkquality,
        }
        for d in device_health(ctx.db, household.id)
    ]
    learning = get_detector_status(ctx.db, household.id)
    everything = {
        "household": {
            "id": household.id,
            "display_name": household.display_name,
            "tz": household.tz,
            "created": household.created.isoformat(),
        },
        "exported_at": ctx.clock.now().isoformat(),
        "events": events,
        "alerts": alerts,
        "consents": consents,
        "access_log": accesses,
        "devices": devices,
        "detector_status": dump(learning) if learning else None,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.json", json.dumps(everything, indent=1, default=str))
        archive.writestr("events.csv", _csv(events, EVENT_FIELDS))
        archive.writestr("alerts.csv", _csv(alerts, ALERT_FIELDS))
        archive.writestr(
            "consents.csv",
            _csv(
                consents["records"],
                ("ts", "action", "username", "scope", "until", "text_version", "recorded_by"),
            ),
        )
        archive.writestr(
            "access_log.csv", _csv(accesses, ("ts", "username", "role", "action", "on_behalf_of"))
        )
    return buffer.getvalue()


def erase_household(ctx: AppContext, household: Household, by: User) -> dict[str, int]:
    """Erase events (through the EventStore), alerts and derived data; returns counts."""
    now: datetime = ctx.clock.now()
    counts = {"events": ctx.event_store.erase(household.id)}
    with ctx.db.transaction() as conn:
        for table in (
            "alerts",
            "notifications",
            "device_health",
            "gateway_status",
            "contacts",
            "feedback_outbox",
            "detector_status",
        ):
            cursor = conn.execute(f"DELETE FROM {table} WHERE household = ?", (household.id,))
            counts[table] = cursor.rowcount
        conn.execute(
            "UPDATE households SET display_name = ?, erased_ts = ? WHERE id = ?",
            (household.id, to_db_ts(now), household.id),
        )
    log_access(ctx.db, by, household.id, "erase all data", now)
    logger.info("erased household data: %s", counts)
    return counts
