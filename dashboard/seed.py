"""Demo accounts, households and consents, so a fresh dashboard has something to show."""

from __future__ import annotations

import secrets
from datetime import datetime

from dagritme.clock import Clock, WallClock
from dashboard.accounts import Role, create_user, find_user
from dashboard.consent import ConsentAction, Scope, household_records, record_consent, scopes_of
from dashboard.db import Database
from dashboard.households import create_household, get_household

DEMO_TEXT_VERSION = "demo"


def _password() -> str:
    return secrets.token_urlsafe(12)


def seed_demo(
    db: Database, households: list[tuple[str, str, str]], clock: Clock | None = None
) -> dict[str, str]:
    """Create (household id, display name, tz) households with a resident each, a nurse and a
    carer with consent to every household, and an admin without consent.

    Returns user name -> password for the accounts created now (existing ones are kept).
    """
    now: datetime = (clock or WallClock()).now()
    logins: dict[str, str] = {}

    def ensure(username: str, role: Role, display: str, household: str | None = None) -> int:
        existing = find_user(db, username)
        if existing is not None:
            return existing.id
        password = _password()
        user = create_user(
            db,
            username=username,
            password=password,
            role=role,
            now=now,
            display_name=display,
            household=household,
        )
        logins[username] = password
        return user.id

    admin_id = ensure("admin", Role.ADMIN, "Admin")
    nurse_id = ensure("nurse", Role.NURSE, "Nurse Anna")
    carer_id = ensure("carer", Role.CARER, "Carer Bram")
    for household_id, display_name, tz in households:
        if get_household(db, household_id) is None:
            create_household(db, household_id, display_name, tz, now)
        resident_id = ensure(
            f"resident-{household_id}", Role.RESIDENT, display_name, household=household_id
        )
        grants = [(nurse_id, scope) for scope in Scope] + [
            (carer_id, Scope.ALERTS),
            (carer_id, Scope.SUMMARY),
        ]
        records = household_records(db, household_id)
        for subject, scope in grants:
            if scope in scopes_of(records, subject):
                continue
            record_consent(
                db,
                household=household_id,
                action=ConsentAction.GRANT,
                recorded_by=resident_id,
                text_version=DEMO_TEXT_VERSION,
                now=now,
                subject_user_id=subject,
                scope=scope,
            )
    del admin_id
    return logins
