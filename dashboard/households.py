"""Households (pseudonymous id, display name, time zone) and the append-only access log."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dagritme.models import ID_PATTERN
from dashboard.accounts import User
from dashboard.db import Database, from_db_ts, opt_ts, to_db_ts


class HouseholdError(ValueError):
    """A household that cannot be created as asked."""


@dataclass(frozen=True, slots=True)
class Household:
    id: str
    display_name: str
    tz: str
    created: datetime
    erased: datetime | None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


@dataclass(frozen=True, slots=True)
class AccessEntry:
    ts: datetime
    username: str
    role: str
    household: str
    action: str
    on_behalf_of: str


def _household(row: sqlite3.Row) -> Household:
    return Household(
        id=row["id"],
        display_name=row["display_name"],
        tz=row["tz"],
        created=from_db_ts(row["created_ts"]),
        erased=opt_ts(row["erased_ts"]),
    )


def create_household(
    db: Database, household_id: str, display_name: str, tz: str, now: datetime
) -> Household:
    if not re.match(ID_PATTERN, household_id):
        raise HouseholdError(f"not a pseudonymous household id: {household_id!r}")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise HouseholdError(f"unknown time zone {tz!r}") from err
    try:
        db.execute(
            "INSERT INTO households (id, display_name, tz, created_ts) VALUES (?, ?, ?, ?)",
            (household_id, display_name, tz, to_db_ts(now)),
        )
    except sqlite3.IntegrityError as err:
        raise HouseholdError(f"household {household_id!r} exists already") from err
    return Household(household_id, display_name, tz, now, None)


def get_household(db: Database, household_id: str) -> Household | None:
    row = db.query_one("SELECT * FROM households WHERE id = ?", (household_id,))
    return _household(row) if row else None


def list_households(db: Database, ids: list[str] | None = None) -> list[Household]:
    rows = db.query("SELECT * FROM households ORDER BY id")
    households = [_household(row) for row in rows]
    if ids is None:
        return households
    wanted = set(ids)
    return [h for h in households if h.id in wanted]


def log_access(db: Database, user: User, household: str, action: str, now: datetime) -> None:
    """Who read what of whose household, and when. Written on every household read."""
    log_accesses(db, user, [household], action, now)


def log_accesses(
    db: Database, user: User, households: list[str], action: str, now: datetime
) -> None:
    """One entry per household, in one transaction (the overview reads many at once)."""
    rows = [
        (
            to_db_ts(now),
            user.id,
            user.username,
            user.role.value,
            household,
            action,
            "self" if user.household == household else f"resident of {household}",
        )
        for household in households
    ]
    with db.transaction() as conn:
        conn.executemany(
            "INSERT INTO access_log (ts, user_id, username, role, household, action,"
            " on_behalf_of) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def access_log(db: Database, household: str, limit: int = 500) -> list[AccessEntry]:
    rows = db.query(
        "SELECT * FROM access_log WHERE household = ? ORDER BY ts DESC, id DESC LIMIT ?",
        (household, limit),
    )
    return [
        AccessEntry(
            ts=from_db_ts(row["ts"]),
            username=row["username"],
            role=row["role"],
            household=row["household"],
            action=row["action"],
            on_behalf_of=row["on_behalf_of"],
        )
        for row in rows
    ]
