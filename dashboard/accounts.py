"""Accounts, password login (argon2), server-side sessions and login rate limiting."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dashboard.db import Database, to_db_ts

_hasher = PasswordHasher()
# Verifying against a dummy hash for unknown users keeps login timing the same for both cases.
_DUMMY_HASH = _hasher.hash("dummy password for timing")


class Role(StrEnum):
    RESIDENT = "resident"
    CARER = "carer"
    NURSE = "nurse"
    ADMIN = "admin"


class AccountError(ValueError):
    """An account that cannot be created or changed as asked."""


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    display_name: str
    role: Role
    language: str | None
    household: str | None  # the resident's own household


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    csrf_token: str
    expires: datetime


def _user(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        language=row["language"],
        household=row["household"],
    )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    db: Database,
    *,
    username: str,
    password: str,
    role: Role,
    now: datetime,
    display_name: str | None = None,
    language: str | None = None,
    household: str | None = None,
) -> User:
    if len(password) < 10:
        raise AccountError("a password needs at least 10 characters")
    if (role is Role.RESIDENT) != (household is not None):
        raise AccountError("a resident account belongs to exactly one household")
    try:
        with db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO users (username, display_name, role, password_hash, language,"
                " household, created_ts) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    username,
                    display_name or username,
                    role.value,
                    hash_password(password),
                    language,
                    household,
                    to_db_ts(now),
                ),
            )
            user_id = cursor.lastrowid
    except sqlite3.IntegrityError as err:
        raise AccountError(f"cannot create user {username!r}: {err}") from err
    assert user_id is not None
    found = get_user(db, user_id)
    assert found is not None
    return found


def get_user(db: Database, user_id: int) -> User | None:
    row = db.query_one("SELECT * FROM users WHERE id = ? AND active = 1", (user_id,))
    return _user(row) if row else None


def find_user(db: Database, username: str) -> User | None:
    row = db.query_one("SELECT * FROM users WHERE username = ? AND active = 1", (username,))
    return _user(row) if row else None


def list_users(db: Database) -> list[User]:
    return [_user(row) for row in db.query("SELECT * FROM users WHERE active = 1 ORDER BY id")]


def set_language(db: Database, user_id: int, language: str) -> None:
    db.execute("UPDATE users SET language = ? WHERE id = ?", (language, user_id))


def authenticate(db: Database, username: str, password: str) -> User | None:
    row = db.query_one("SELECT * FROM users WHERE username = ? AND active = 1", (username,))
    stored = row["password_hash"] if row else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    return _user(row) if row else None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(db: Database, user: User, now: datetime, lifetime: timedelta) -> str:
    """Start a session; returns the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    with db.transaction() as conn:
        conn.execute("DELETE FROM sessions WHERE expires_ts < ?", (to_db_ts(now),))
        conn.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_ts, expires_ts)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                _token_hash(token),
                user.id,
                secrets.token_urlsafe(24),
                to_db_ts(now),
                to_db_ts(now + lifetime),
            ),
        )
    return token


def get_session(db: Database, token: str, now: datetime) -> Session | None:
    row = db.query_one(
        "SELECT u.*, s.csrf_token, s.expires_ts FROM sessions s JOIN users u ON u.id = s.user_id"
        " WHERE s.token_hash = ? AND s.expires_ts > ? AND u.active = 1",
        (_token_hash(token), to_db_ts(now)),
    )
    if row is None:
        return None
    return Session(user=_user(row), csrf_token=row["csrf_token"], expires=now)


def end_session(db: Database, token: str) -> None:
    db.execute("DELETE FROM sessions WHERE token_hash = ?", (_token_hash(token),))


def csrf_matches(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected, given)


class LoginRateLimiter:
    """At most `attempts` failed logins per (user name, address) within `window`."""

    def __init__(self, attempts: int, window: timedelta) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: dict[tuple[str, str], deque[datetime]] = {}

    def _recent(self, key: tuple[str, str], now: datetime) -> deque[datetime]:
        failures = self._failures.setdefault(key, deque())
        while failures and now - failures[0] > self.window:
            failures.popleft()
        return failures

    def blocked(self, username: str, address: str, now: datetime) -> bool:
        return len(self._recent((username.lower(), address), now)) >= self.attempts

    def failed(self, username: str, address: str, now: datetime) -> None:
        self._recent((username.lower(), address), now).append(now)

    def succeeded(self, username: str, address: str) -> None:
        self._failures.pop((username.lower(), address), None)
