"""The pure consent rules: grants, revocations, pauses that end by themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dashboard.accounts import Role, User
from dashboard.consent import (
    ALL_SCOPES,
    ConsentAction,
    ConsentRecord,
    Scope,
    access_scopes,
    paused_until,
    scopes_of,
)

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def record(
    n: int,
    action: ConsentAction,
    subject: int | None = 7,
    scope: Scope | None = None,
    until: datetime | None = None,
) -> ConsentRecord:
    return ConsentRecord(
        n, "hh-a", action, subject, scope, until, "v1", 1, T0 + timedelta(minutes=n)
    )


def test_grants_accumulate_and_revocations_remove() -> None:
    records = [
        record(1, ConsentAction.GRANT, scope=Scope.ALERTS),
        record(2, ConsentAction.GRANT, scope=Scope.TIMELINE),
        record(3, ConsentAction.REVOKE, scope=Scope.TIMELINE),
        record(4, ConsentAction.GRANT, subject=8, scope=Scope.SUMMARY),
    ]
    assert scopes_of(records, 7) == {Scope.ALERTS}
    assert scopes_of(records, 8) == {Scope.SUMMARY}
    assert scopes_of(records, 9) == frozenset()


def test_revoke_without_scope_revokes_everything_and_order_matters() -> None:
    records = [
        record(3, ConsentAction.GRANT, scope=Scope.SUMMARY),
        record(2, ConsentAction.REVOKE),
        record(1, ConsentAction.GRANT, scope=Scope.ALERTS),
    ]
    assert scopes_of(records, 7) == {Scope.SUMMARY}


def test_pause_ends_by_itself_and_resume_ends_it_early() -> None:
    pause = record(1, ConsentAction.PAUSE, subject=None, until=T0 + timedelta(hours=4))
    assert paused_until([pause], T0 + timedelta(hours=1)) == T0 + timedelta(hours=4)
    assert paused_until([pause], T0 + timedelta(hours=5)) is None
    resume = record(2, ConsentAction.RESUME, subject=None)
    assert paused_until([pause, resume], T0 + timedelta(hours=1)) is None


def test_resident_sees_own_household_admin_needs_consent() -> None:
    resident = User(1, "r", "R", Role.RESIDENT, None, "hh-a")
    admin = User(2, "a", "A", Role.ADMIN, None, None)
    assert access_scopes(resident, "hh-a", []) == ALL_SCOPES
    assert access_scopes(resident, "hh-b", []) == frozenset()
    assert access_scopes(admin, "hh-a", []) == frozenset()
    granted = [record(1, ConsentAction.GRANT, subject=2, scope=Scope.SUMMARY)]
    assert access_scopes(admin, "hh-a", granted) == {Scope.SUMMARY}
