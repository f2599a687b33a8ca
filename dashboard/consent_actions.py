"""Recording consent decisions and showing who may see what (API and pages share this)."""

from __future__ import annotations

from datetime import datetime

from dashboard.access import HouseholdAccess
from dashboard.accounts import Role, find_user, list_users
from dashboard.api.schemas import ConsentOut, ConsentRequest, ConsentStateOut
from dashboard.consent import (
    ConsentAction,
    ConsentRecord,
    Scope,
    household_records,
    paused_until,
    record_consent,
    scopes_of,
)
from dashboard.context import AppContext


class ConsentRequestError(ValueError):
    """A consent request that cannot be recorded as asked."""


def apply_consent(ctx: AppContext, access: HouseholdAccess, body: ConsentRequest) -> ConsentRecord:
    household = access.household.id
    now = ctx.clock.now()
    subject_id: int | None = None
    if body.action in (ConsentAction.GRANT, ConsentAction.REVOKE):
        if not body.username:
            raise ConsentRequestError("say whom the consent is about (username)")
        subject = find_user(ctx.db, body.username)
        if subject is None:
            raise ConsentRequestError("no such user")
        if subject.role is Role.RESIDENT:
            raise ConsentRequestError("residents see their own household and no other")
        subject_id = subject.id
        if body.action is ConsentAction.GRANT and body.scope is None:
            raise ConsentRequestError("a grant needs a scope")
    until: datetime | None = None
    if body.action is ConsentAction.PAUSE:
        if body.until is None or body.until.tzinfo is None or body.until <= now:
            raise ConsentRequestError("a pause needs an end in the future, with a time zone")
        until = body.until
    return record_consent(
        ctx.db,
        household=household,
        action=body.action,
        recorded_by=access.user.id,
        text_version=ctx.config.consent_text_version,
        now=now,
        subject_user_id=subject_id,
        scope=body.scope if body.action in (ConsentAction.GRANT, ConsentAction.REVOKE) else None,
        until=until,
    )


def consent_state(ctx: AppContext, household: str) -> ConsentStateOut:
    records = household_records(ctx.db, household)
    names = {user.id: user.username for user in list_users(ctx.db)}
    subjects = sorted({r.subject_user_id for r in records if r.subject_user_id is not None})
    current: dict[str, list[Scope]] = {}
    for subject in subjects:
        scopes = scopes_of(records, subject)
        if scopes:
            current[names.get(subject, str(subject))] = sorted(scopes)
    return ConsentStateOut(
        paused_until=paused_until(records, ctx.clock.now()),
        current=current,
        records=[consent_out(r, names) for r in records],
    )


def consent_out(record: ConsentRecord, names: dict[int, str]) -> ConsentOut:
    return ConsentOut(
        id=record.id,
        household=record.household,
        action=record.action,
        username=names.get(record.subject_user_id) if record.subject_user_id else None,
        scope=record.scope,
        until=record.until,
        text_version=record.text_version,
        recorded_by=names.get(record.recorded_by, str(record.recorded_by)),
        ts=record.ts,
    )
