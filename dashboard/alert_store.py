"""Alerts as the dashboard keeps them: upserted from the broker by alert_id, then
acknowledged and resolved by people. Also the latest device and gateway health."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from dagritme.models import (
    Alert,
    AlertStatus,
    AlertType,
    DeviceHealth,
    Evidence,
    Resolution,
    Severity,
)
from dashboard.db import Database, from_db_ts, opt_ts, to_db_ts

SEVERITY_RANK = {Severity.INFO: 1, Severity.WARNING: 2, Severity.URGENT: 3}


class AlertStateError(ValueError):
    """A lifecycle step that does not fit the alert's current status."""


@dataclass(frozen=True, slots=True)
class StoredAlert:
    alert_id: str
    household: str
    ts: datetime
    type: AlertType
    subtype: str | None
    severity: Severity
    message: str
    evidence: Evidence
    status: AlertStatus
    resolved_ts: datetime | None
    resolution: Resolution | None
    ack_by: str | None
    ack_note: str | None
    ack_ts: datetime | None
    resolved_by: str | None
    resolution_note: str | None


@dataclass(frozen=True, slots=True)
class HouseholdAlertSummary:
    household: str
    open_count: int
    worst_open: Severity | None
    latest_ts: datetime | None


@dataclass(frozen=True, slots=True)
class DeviceHealthRow:
    sensor: str
    ts: datetime
    availability: str
    battery: float | None
    linkquality: int | None


def _alert(row: sqlite3.Row) -> StoredAlert:
    return StoredAlert(
        alert_id=row["alert_id"],
        household=row["household"],
        ts=from_db_ts(row["ts"]),
        type=AlertType(row["type"]),
        subtype=row["subtype"],
        severity=Severity(row["severity"]),
        message=row["message"],
        evidence=Evidence.model_validate_json(row["evidence_json"]),
        status=AlertStatus(row["status"]),
        resolved_ts=opt_ts(row["resolved_ts"]),
        resolution=Resolution(row["resolution"]) if row["resolution"] else None,
        ack_by=row["ack_by"],
        ack_note=row["ack_note"],
        ack_ts=opt_ts(row["ack_ts"]),
        resolved_by=row["resolved_by"],
        resolution_note=row["resolution_note"],
    )


def upsert_alert(db: Database, alert: Alert, now: datetime) -> bool:
    """Store an alert from the detector; returns True when it is new.

    The detector republishes the same alert_id when it auto-resolves. A resolution made by
    a person is never overwritten; an acknowledgement survives the auto-resolution.
    """
    evidence = alert.evidence.model_dump_json(exclude_none=True)
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT status FROM alerts WHERE alert_id = ?", (alert.alert_id,)
        ).fetchone()
        if row is None:
            conn.execute(
                "INSERT INTO alerts (alert_id, household, ts, type, subtype, severity, message,"
                " evidence_json, status, resolved_ts, resolution, received_ts, updated_ts)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    alert.alert_id,
                    alert.household,
                    to_db_ts(alert.ts),
                    alert.type.value,
                    alert.subtype,
                    alert.severity.value,
                    alert.message,
                    evidence,
                    alert.status.value,
                    to_db_ts(alert.resolved_ts) if alert.resolved_ts else None,
                    alert.resolution.value if alert.resolution else None,
                    to_db_ts(now),
                    to_db_ts(now),
                ),
            )
            return True
        if row["status"] == AlertStatus.RESOLVED.value:
            return False
        if alert.status is AlertStatus.RESOLVED:
            conn.execute(
                "UPDATE alerts SET status = ?, resolved_ts = ?, resolution = ?, message = ?,"
                " evidence_json = ?, updated_ts = ? WHERE alert_id = ?",
                (
                    AlertStatus.RESOLVED.value,
                    to_db_ts(alert.resolved_ts or now),
                    (alert.resolution or Resolution.AUTO).value,
                    alert.message,
                    evidence,
                    to_db_ts(now),
                    alert.alert_id,
                ),
            )
        else:
            conn.execute(
                "UPDATE alerts SET severity = ?, message = ?, evidence_json = ?, updated_ts = ?"
                " WHERE alert_id = ?",
                (alert.severity.value, alert.message, evidence, to_db_ts(now), alert.alert_id),
            )
        return False


def get_alert(db: Database, alert_id: str) -> StoredAlert | None:
    row = db.query_one("SELECT * FROM alerts WHERE alert_id = ?", (alert_id,))
    return _alert(row) if row else None


def list_alerts(
    db: Database, household: str, *, status: AlertStatus | None = None, limit: int = 200
) -> list[StoredAlert]:
    if status is None:
        rows = db.query(
            "SELECT * FROM alerts WHERE household = ? ORDER BY ts DESC LIMIT ?", (household, limit)
        )
    else:
        rows = db.query(
            "SELECT * FROM alerts WHERE household = ? AND status = ? ORDER BY ts DESC LIMIT ?",
            (household, status.value, limit),
        )
    return [_alert(row) for row in rows]


def acknowledge(db: Database, alert_id: str, who: str, note: str, now: datetime) -> StoredAlert:
    with db.transaction() as conn:
        row = conn.execute("SELECT status FROM alerts WHERE alert_id = ?", (alert_id,)).fetchone()
        if row is None:
            raise KeyError(alert_id)
        if row["status"] == AlertStatus.RESOLVED.value:
            raise AlertStateError("the alert is resolved already")
        conn.execute(
            "UPDATE alerts SET status = ?, ack_by = ?, ack_note = ?, ack_ts = ?, updated_ts = ?"
            " WHERE alert_id = ?",
            (AlertStatus.ACKNOWLEDGED.value, who, note, to_db_ts(now), to_db_ts(now), alert_id),
        )
    found = get_alert(db, alert_id)
    assert found is not None
    return found


def resolve(
    db: Database, alert_id: str, who: str, outcome: Resolution, note: str, now: datetime
) -> StoredAlert:
    if outcome is Resolution.AUTO:
        raise AlertStateError("people resolve with true_alarm, false_alarm or resident_ok")
    with db.transaction() as conn:
        row = conn.execute("SELECT status FROM alerts WHERE alert_id = ?", (alert_id,)).fetchone()
        if row is None:
            raise KeyError(alert_id)
        conn.execute(
            "UPDATE alerts SET status = ?, resolution = ?, resolved_ts = ?, resolved_by = ?,"
            " resolution_note = ?, updated_ts = ? WHERE alert_id = ?",
            (
                AlertStatus.RESOLVED.value,
                outcome.value,
                to_db_ts(now),
                who,
                note,
                to_db_ts(now),
                alert_id,
            ),
        )
    found = get_alert(db, alert_id)
    assert found is not None
    return found


def alert_summaries(db: Database) -> dict[str, HouseholdAlertSummary]:
    """Per household: open alerts, the worst open severity and the newest alert time.

    An acknowledged urgent alert counts as a warning: someone is already on it.
    """
    rows = db.query(
        "SELECT household,"
        " SUM(CASE WHEN status != 'resolved' THEN 1 ELSE 0 END) AS open_count,"
        # Someone is handling an acknowledged alert: it counts as a warning at most.
        " MAX(CASE WHEN status = 'open' THEN"
        "   CASE severity WHEN 'urgent' THEN 3 WHEN 'warning' THEN 2 ELSE 1 END"
        "   WHEN status = 'acknowledged' THEN"
        "   CASE severity WHEN 'info' THEN 1 ELSE 2 END END) AS worst,"
        " MAX(ts) AS latest FROM alerts GROUP BY household"
    )
    by_rank = {rank: severity for severity, rank in SEVERITY_RANK.items()}
    return {
        row["household"]: HouseholdAlertSummary(
            household=row["household"],
            open_count=row["open_count"] or 0,
            worst_open=by_rank.get(row["worst"]) if row["worst"] else None,
            latest_ts=opt_ts(row["latest"]),
        )
        for row in rows
    }


def upsert_device_health(db: Database, health: DeviceHealth) -> None:
    db.execute(
        "INSERT INTO device_health (household, sensor, ts, availability, battery, linkquality)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (household, sensor) DO UPDATE SET"
        " ts = excluded.ts, availability = excluded.availability,"
        " battery = COALESCE(excluded.battery, device_health.battery),"
        " linkquality = COALESCE(excluded.linkquality, device_health.linkquality)"
        " WHERE excluded.ts >= device_health.ts",
        (
            health.household,
            health.sensor,
            to_db_ts(health.ts),
            health.availability.value,
            health.battery,
            health.linkquality,
        ),
    )


def device_health(db: Database, household: str) -> list[DeviceHealthRow]:
    rows = db.query("SELECT * FROM device_health WHERE household = ? ORDER BY sensor", (household,))
    return [
        DeviceHealthRow(
            sensor=row["sensor"],
            ts=from_db_ts(row["ts"]),
            availability=row["availability"],
            battery=row["battery"],
            linkquality=row["linkquality"],
        )
        for row in rows
    ]


def set_gateway_status(db: Database, household: str, status: str, now: datetime) -> None:
    db.execute(
        "INSERT INTO gateway_status (household, status, ts) VALUES (?, ?, ?)"
        " ON CONFLICT (household) DO UPDATE SET status = excluded.status, ts = excluded.ts",
        (household, status, to_db_ts(now)),
    )


def gateway_statuses(db: Database) -> dict[str, tuple[str, datetime]]:
    return {
        row["household"]: (row["status"], from_db_ts(row["ts"]))
        for row in db.query("SELECT * FROM gateway_status")
    }
