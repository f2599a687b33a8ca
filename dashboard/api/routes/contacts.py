"""Notification contacts (managed by the resident or an admin) and delivery records."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from dashboard.accounts import find_user, list_users
from dashboard.api.schemas import ContactOut, ContactRequest, NotificationOut
from dashboard.consent import Scope, household_records, scopes_of
from dashboard.deps import AlertsHousehold, ContextDep, CsrfChecked, ManagedHousehold
from dashboard.notify import add_contact, contacts, notifications, redact_url

router = APIRouter(prefix="/households", tags=["notifications"])


@router.get("/{household_id}/contacts", response_model=list[ContactOut])
def get_contacts(access: ManagedHousehold, ctx: ContextDep) -> list[ContactOut]:
    records = household_records(ctx.db, access.household.id)
    names = {user.id: user.username for user in list_users(ctx.db)}
    return [
        ContactOut(
            id=c.id,
            username=names.get(c.user_id, str(c.user_id)),
            target=redact_url(c.apprise_url),
            position=c.position,
            notified=Scope.ALERTS in scopes_of(records, c.user_id),
        )
        for c in contacts(ctx.db, access.household.id)
    ]


@router.post(
    "/{household_id}/contacts",
    response_model=ContactOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[CsrfChecked],
)
def post_contact(body: ContactRequest, access: ManagedHousehold, ctx: ContextDep) -> ContactOut:
    user = find_user(ctx.db, body.username)
    if user is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "no such user")
    try:
        contact = add_contact(
            ctx.db, access.household.id, user.id, body.apprise_url, ctx.clock.now(), body.position
        )
    except ValueError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from err
    records = household_records(ctx.db, access.household.id)
    return ContactOut(
        id=contact.id,
        username=user.username,
        target=redact_url(contact.apprise_url),
        position=contact.position,
        notified=Scope.ALERTS in scopes_of(records, user.id),
    )


@router.get("/{household_id}/notifications", response_model=list[NotificationOut])
def get_notifications(access: AlertsHousehold, ctx: ContextDep) -> list[NotificationOut]:
    """Every delivery attempt, failures included, newest first."""
    return [
        NotificationOut(
            alert_id=n.alert_id,
            contact_id=n.contact_id,
            status=n.status,
            attempts=n.attempts,
            last_error=n.last_error,
            updated=n.updated,
        )
        for n in notifications(ctx.db, access.household.id)
    ]
