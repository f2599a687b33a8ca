"""Notifications through Apprise URLs (mailto://, ntfy://, json:// webhooks, ...).

Only contacts who hold the alerts scope for the household are notified, and nobody while
the resident has paused monitoring. Each delivery is recorded (pending -> sent | failed,
with attempts and the last error) so that failures are visible in the dashboard.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime

import apprise

from dagritme.clock import Clock
from dagritme.models import Alert, Severity
from dashboard.accounts import get_user
from dashboard.config import NotificationSettings
from dashboard.consent import Scope, household_records, paused_until, scopes_of
from dashboard.db import Database, from_db_ts, to_db_ts
from dashboard.i18n import translate

logger = logging.getLogger(__name__)

NOTIFY_TYPES = {
    Severity.INFO: apprise.NotifyType.INFO,
    Severity.WARNING: apprise.NotifyType.WARNING,
    Severity.URGENT: apprise.NotifyType.FAILURE,
}


@dataclass(frozen=True, slots=True)
class Contact:
    id: int
    household: str
    user_id: int
    apprise_url: str
    position: int


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    id: int
    alert_id: str
    contact_id: int
    status: str
    attempts: int
    last_error: str | None
    updated: datetime


class DeliveryFailed(RuntimeError):
    """Apprise could not deliver; the message says why when Apprise told us."""


def redact_url(url: str) -> str:
    """Show the scheme and host of a contact URL, never its credentials or tokens."""
    scheme, _, rest = url.partition("://")
    # The query may hold addresses and tokens too (mailto://host?to=...&from=...).
    location = rest.split("?", 1)[0].split("#", 1)[0]
    host = location.split("/", 1)[0].rsplit("@", 1)[-1]
    return f"{scheme}://{host}/…"


def add_contact(
    db: Database, household: str, user_id: int, apprise_url: str, now: datetime, position: int = 0
) -> Contact:
    if not apprise.Apprise().add(apprise_url):
        raise ValueError("Apprise does not understand this notification URL")
    cursor = db.execute(
        "INSERT INTO contacts (household, user_id, apprise_url, position, created_ts)"
        " VALUES (?, ?, ?, ?, ?)",
        (household, user_id, apprise_url, position, to_db_ts(now)),
    )
    assert cursor.lastrowid is not None
    return Contact(cursor.lastrowid, household, user_id, apprise_url, position)


def _contact(row: sqlite3.Row) -> Contact:
    return Contact(row["id"], row["household"], row["user_id"], row["apprise_url"], row["position"])


def contacts(db: Database, household: str) -> list[Contact]:
    rows = db.query(
        "SELECT * FROM contacts WHERE household = ? ORDER BY position, id", (household,)
    )
    return [_contact(row) for row in rows]


def notifications(db: Database, household: str) -> list[NotificationRecord]:
    rows = db.query(
        "SELECT * FROM notifications WHERE household = ? ORDER BY updated_ts DESC", (household,)
    )
    return [
        NotificationRecord(
            row["id"],
            row["alert_id"],
            row["contact_id"],
            row["status"],
            row["attempts"],
            row["last_error"],
            from_db_ts(row["updated_ts"]),
        )
        for row in rows
    ]


def recipients(
    db: Database, household: str, now: datetime, scope: Scope = Scope.ALERTS
) -> list[Contact]:
    """Contacts that may be notified now: the scope is held and monitoring is not paused."""
    records = household_records(db, household)
    if paused_until(records, now) is not None:
        return []
    return [c for c in contacts(db, household) if scope in scopes_of(records, c.user_id)]


def _send(url: str, title: str, body: str, notify_type: apprise.NotifyType) -> None:
    sender = apprise.Apprise()
    if not sender.add(url):
        raise DeliveryFailed("not a valid notification URL")
    problems: list[str] = []
    result = sender.notify(
        body=body,
        title=title,
        notify_type=notify_type,
        log_callback=lambda entry, _plugin: problems.append(entry.message),
    )
    if not result:
        raise DeliveryFailed("; ".join(problems[-2:]) or "delivery failed")


class Notifier:
    """Sends one notification per (alert, contact) in the background, with retries."""

    def __init__(self, settings: NotificationSettings, db: Database, clock: Clock) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self._tasks: set[asyncio.Task[None]] = set()

    async def notify(self, alert: Alert, position: int | None = None) -> int:
        """Queue deliveries to one level of the chain (the first when not given).

        Returns how many deliveries were queued.
        """
        now = self.clock.now()
        targets = await asyncio.to_thread(recipients, self.db, alert.household, now)
        if targets:
            level = min(c.position for c in targets) if position is None else position
            targets = [c for c in targets if c.position == level]
        for contact in targets:
            self.queue(
                alert.alert_id,
                alert.household,
                contact,
                self._alert_text(alert, contact),
                NOTIFY_TYPES[alert.severity],
                now,
            )
        return len(targets)

    def queue(
        self,
        key: str,
        household: str,
        contact: Contact,
        text: tuple[str, str],
        notify_type: apprise.NotifyType,
        now: datetime,
    ) -> bool:
        """Record and start one delivery; False when (key, contact) was handled before."""
        created = self.db.execute(
            "INSERT OR IGNORE INTO notifications (alert_id, household, contact_id, status,"
            " created_ts, updated_ts) VALUES (?, ?, ?, 'pending', ?, ?)",
            (key, household, contact.id, to_db_ts(now), to_db_ts(now)),
        )
        if not created.rowcount:
            return False
        task = asyncio.create_task(self._deliver(key, contact, text, notify_type))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    def language_of(self, contact: Contact) -> str:
        user = get_user(self.db, contact.user_id)
        return (user.language if user else None) or "en"

    def _alert_text(self, alert: Alert, contact: Contact) -> tuple[str, str]:
        language = self.language_of(contact)
        title = translate(
            language, "notify.subject", title=translate(language, f"alert.{alert.type}")
        )
        link = f"{self.settings.base_url.rstrip('/')}/households/{alert.household}#alerts"
        return title, translate(language, "notify.body", message=alert.message, link=link)

    async def _deliver(
        self, key: str, contact: Contact, text: tuple[str, str], notify_type: apprise.NotifyType
    ) -> None:
        title, body = text
        delay = self.settings.retry_delay_s
        error = ""
        for attempt in range(1, self.settings.attempts + 1):
            try:
                await asyncio.to_thread(_send, contact.apprise_url, title, body, notify_type)
            except DeliveryFailed as err:
                error = str(err)
                self._record(key, contact.id, "pending", attempt, error)
                if attempt < self.settings.attempts:
                    await asyncio.sleep(delay)
                    delay *= 2
                continue
            self._record(key, contact.id, "sent", attempt, None)
            return
        self._record(key, contact.id, "failed", self.settings.attempts, error)
        logger.warning("notification %s failed after %d attempts", key, self.settings.attempts)

    def _record(
        self, alert_id: str, contact_id: int, status: str, attempts: int, error: str | None
    ) -> None:
        self.db.execute(
            "UPDATE notifications SET status = ?, attempts = ?, last_error = ?, updated_ts = ?"
            " WHERE alert_id = ? AND contact_id = ?",
            (status, attempts, error, to_db_ts(self.clock.now()), alert_id, contact_id),
        )

    async def drain(self) -> None:
        """Wait for deliveries under way (shutdown, tests)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
