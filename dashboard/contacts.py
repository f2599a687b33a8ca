"""Managing a household's notification contacts and their order in the escalation chain.

Contacts are notified by step (position 0 first; contacts on the same step together). The
resident decides, or a nurse who holds the alerts consent, or an admin on the resident's
behalf. A contact only receives anything while its person holds the consent: the chain
can list someone whose consent was revoked, and shows that they will not be notified.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from dashboard.accounts import User, find_user, get_user, list_users
from dashboard.consent import Scope, household_records, scopes_of
from dashboard.db import Database
from dashboard.notify import Contact, add_contact, contacts, redact_url

MAX_POSITION = 100
CONTACT_SCOPES = frozenset({Scope.ALERTS, Scope.SUMMARY})


class ContactError(ValueError):
    """A contact change that cannot be made as asked; `code` names the problem for pages."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class Move(StrEnum):
    EARLIER = "earlier"
    LATER = "later"


@dataclass(frozen=True, slots=True)
class ContactRow:
    """A contact as shown: who, where (redacted), which step, and whether they get alerts."""

    id: int
    username: str
    display_name: str
    target: str
    position: int
    notified: bool  # holds the alerts scope now
    summaries: bool  # holds the summary scope now


def contact_rows(db: Database, household: str) -> list[ContactRow]:
    records = household_records(db, household)
    people = {user.id: user for user in list_users(db)}
    rows: list[ContactRow] = []
    for contact in contacts(db, household):
        person = people.get(contact.user_id)
        scopes = scopes_of(records, contact.user_id)
        rows.append(
            ContactRow(
                id=contact.id,
                username=person.username if person else str(contact.user_id),
                display_name=person.display_name if person else str(contact.user_id),
                target=redact_url(contact.apprise_url),
                position=contact.position,
                notified=Scope.ALERTS in scopes,
                summaries=Scope.SUMMARY in scopes,
            )
        )
    return rows


def eligible_people(db: Database, household: str) -> list[User]:
    """People the resident shares alerts or summaries with: who may be put in the chain."""
    records = household_records(db, household)
    subjects = {r.subject_user_id for r in records if r.subject_user_id is not None}
    people = [get_user(db, uid) for uid in sorted(subjects)]
    return [
        person
        for person in people
        if person is not None and scopes_of(records, person.id) & CONTACT_SCOPES
    ]


def create_contact(
    db: Database, household: str, username: str, apprise_url: str, position: int, now: datetime
) -> Contact:
    person = find_user(db, username)
    if person is None:
        raise ContactError("no such user", "user")
    if not 0 <= position <= MAX_POSITION:
        raise ContactError(f"the step must be between 0 and {MAX_POSITION}", "step")
    try:
        return add_contact(db, household, person.id, apprise_url.strip(), now, position)
    except ValueError as err:
        raise ContactError(str(err), "url") from err


def _get(db: Database, household: str, contact_id: int) -> Contact:
    for contact in contacts(db, household):
        if contact.id == contact_id:
            return contact
    raise ContactError("no such contact in this household", "contact")


def set_position(db: Database, household: str, contact_id: int, position: int) -> Contact:
    if not 0 <= position <= MAX_POSITION:
        raise ContactError(f"the step must be between 0 and {MAX_POSITION}", "step")
    contact = _get(db, household, contact_id)
    db.execute(
        "UPDATE contacts SET position = ? WHERE id = ? AND household = ?",
        (position, contact_id, household),
    )
    return Contact(contact.id, household, contact.user_id, contact.apprise_url, position)


def move_contact(db: Database, household: str, contact_id: int, move: Move) -> Contact:
    """One step earlier or later in the chain (earlier than step 0 is not possible)."""
    contact = _get(db, household, contact_id)
    step = -1 if move is Move.EARLIER else 1
    return set_position(
        db, household, contact_id, min(MAX_POSITION, max(0, contact.position + step))
    )


def remove_contact(db: Database, household: str, contact_id: int) -> None:
    _get(db, household, contact_id)
    db.execute("DELETE FROM contacts WHERE id = ? AND household = ?", (contact_id, household))
