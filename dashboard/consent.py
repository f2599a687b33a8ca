"""Consent: append-only records and the pure rules that fold them into who may see what.

A resident grants each person a scope, may revoke it at any moment, and may pause
monitoring for a period (it resumes by itself when the period ends). The resident always
sees their own household; an admin manages accounts but sees health data only with consent.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from dashboard.accounts import Role, User
from dashboard.db import Database, from_db_ts, opt_ts, to_db_ts


class Scope(StrEnum):
    ALERTS = "alerts"  # alerts, notifications, acknowledging and resolving
    SUMMARY = "summary"  # status, last activity, learning progress, daily summary
    TIMELINE = "timeline"  # room-level activity history and the rhythm heatmap


ALL_SCOPES = frozenset(Scope)


class ConsentAction(StrEnum):
    GRANT = "grant"
    REVOKE = "revoke"
    PAUSE = "pause"
    RESUME = "resume"


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    id: int
    household: str
    action: ConsentAction
    subject_user_id: int | None  # the person granted or revoked; None for pause/resume
    scope: Scope | None  # None on a revoke means every scope
    until: datetime | None  # end of a pause
    text_version: str
    recorded_by: int
    ts: datetime


def scopes_of(records: Iterable[ConsentRecord], user_id: int) -> frozenset[Scope]:
    """Fold one person's grants and revocations, oldest first."""
    scopes: set[Scope] = set()
    for record in sorted(records, key=lambda r: (r.ts, r.id)):
        if record.subject_user_id != user_id:
            continue
        if record.action is ConsentAction.GRANT and record.scope is not None:
            scopes.add(record.scope)
        elif record.action is ConsentAction.REVOKE:
            if record.scope is None:
                scopes.clear()
            else:
                scopes.discard(record.scope)
    return frozenset(scopes)


def paused_until(records: Iterable[ConsentRecord], now: datetime) -> datetime | None:
    """End of the running pause, or None when monitoring is on (pauses end by themselves)."""
    latest: ConsentRecord | None = None
    for record in records:
        if record.action in (ConsentAction.PAUSE, ConsentAction.RESUME) and (
            latest is None or (record.ts, record.id) > (latest.ts, latest.id)
        ):
            latest = record
    if latest is None or latest.action is ConsentAction.RESUME or latest.until is None:
        return None
    return latest.until if latest.until > now else None


def access_scopes(user: User, household: str, records: Iterable[ConsentRecord]) -> frozenset[Scope]:
    """What `user` may see of `household`: everything for its resident, else the consent."""
    if user.role is Role.RESIDENT and user.household == household:
        return ALL_SCOPES
    return scopes_of(records, user.id)


def _record(row: sqlite3.Row) -> ConsentRecord:
    return ConsentRecord(
        id=row["id"],
        household=row["household"],
        action=ConsentAction(row["action"]),
        subject_user_id=row["subject_user_id"],
        scope=Scope(row["scope"]) if row["scope"] else None,
        until=opt_ts(row["until_ts"]),
        text_version=row["text_version"],
        recorded_by=row["recorded_by"],
        ts=from_db_ts(row["ts"]),
    )


def household_records(db: Database, household: str) -> list[ConsentRecord]:
    rows = db.query("SELECT * FROM consents WHERE household = ? ORDER BY ts, id", (household,))
    return [_record(row) for row in rows]


def records_for_subject(db: Database, user_id: int) -> dict[str, list[ConsentRecord]]:
    """Every grant/revoke about one person, grouped by household."""
    grouped: dict[str, list[ConsentRecord]] = {}
    rows = db.query("SELECT * FROM consents WHERE subject_user_id = ? ORDER BY ts, id", (user_id,))
    for row in rows:
        record = _record(row)
        grouped.setdefault(record.household, []).append(record)
    return grouped


def pauses(db: Database) -> dict[str, list[ConsentRecord]]:
    grouped: dict[str, list[ConsentRecord]] = {}
    for row in db.query("SELECT * FROM consents WHERE action IN ('pause', 'resume')"):
        record = _record(row)
        grouped.setdefault(record.household, []).append(record)
    return grouped


def record_consent(
    db: Database,
    *,
    household: str,
    action: ConsentAction,
    recorded_by: int,
    text_version: str,
    now: datetime,
    subject_user_id: int | None = None,
    scope: Scope | None = None,
    until: datetime | None = None,
) -> ConsentRecord:
    if action in (ConsentAction.GRANT, ConsentAction.REVOKE) and subject_user_id is None:
        raise ValueError(f"a {action} needs the person it is about")
    if action is ConsentAction.GRANT and scope is None:
        raise ValueError("a grant needs a scope")
    if action is ConsentAction.PAUSE and (until is None or until <= now):
        raise ValueError("a pause needs an end in the future")
    with db.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO consents (household, action, subject_user_id, scope, until_ts,"
            " text_version, recorded_by, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                household,
                action.value,
                subject_user_id,
                scope.value if scope else None,
                to_db_ts(until) if until else None,
                text_version,
                recorded_by,
                to_db_ts(now),
            ),
        )
        row = conn.execute("SELECT * FROM consents WHERE id = ?", (cursor.lastrowid,)).fetchone()
    return _record(row)


def consented_user_ids(db: Database, household: str, scope: Scope) -> list[int]:
    """People who currently hold `scope` for a household (the resident aside)."""
    records = household_records(db, household)
    subjects = {r.subject_user_id for r in records if r.subject_user_id is not None}
    return sorted(uid for uid in subjects if scope in scopes_of(records, uid))
