"""Notification contacts and their order in the escalation chain (managed by the resident,
a nurse with the alerts consent, or an admin), and delivery records."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status

from dashboard.api.schemas import (
    ContactOut,
    ContactPositionRequest,
    ContactRequest,
    NotificationOut,
)
from dashboard.contacts import (
    ContactError,
    ContactRow,
    contact_rows,
    create_contact,
    remove_contact,
    set_position,
)
from dashboard.deps import AlertsHousehold, ContactsHousehold, ContextDep, CsrfChecked
from dashboard.notify import notifications

router = APIRouter(prefix="/households", tags=["notifications"])


def _out(row: ContactRow) -> ContactOut:
    return ContactOut(
        id=row.id,
        username=row.username,
        target=row.target,
        position=row.position,
        notified=row.notified,
    )


def _row(ctx: ContextDep, household: str, contact_id: int) -> ContactOut:
    for row in contact_rows(ctx.db, household):
        if row.id == contact_id:
            return _out(row)
    raise HTTPException(status.HTTP_404_NOT_FOUND, "contact not found")


@router.get("/{household_id}/contacts", response_model=list[ContactOut])
def get_contacts(access: ContactsHousehold, ctx: ContextDep) -> list[ContactOut]:
    """The escalation chain in order: step 0 first; a step is notified together."""
    return [_out(row) for row in contact_rows(ctx.db, access.household.id)]


@router.post(
    "/{household_id}/contacts",
    response_model=ContactOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[CsrfChecked],
)
def post_contact(body: ContactRequest, access: ContactsHousehold, ctx: ContextDep) -> ContactOut:
    household = access.household.id
    try:
        contact = create_contact(
            ctx.db, household, body.username, body.apprise_url, body.position, ctx.clock.now()
        )
    except ContactError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from err
    return _row(ctx, household, contact.id)


@router.patch(
    "/{household_id}/contacts/{contact_id}",
    response_model=ContactOut,
    dependencies=[CsrfChecked],
)
def patch_contact(
    contact_id: int, body: ContactPositionRequest, access: ContactsHousehold, ctx: ContextDep
) -> ContactOut:
    """Move a contact to another step of the escalation chain."""
    household = access.household.id
    try:
        set_position(ctx.db, household, contact_id, body.position)
    except ContactError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
    return _row(ctx, household, contact_id)


@router.delete(
    "/{household_id}/contacts/{contact_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[CsrfChecked],
)
def delete_contact(contact_id: int, access: ContactsHousehold, ctx: ContextDep) -> Response:
    try:
        remove_contact(ctx.db, access.household.id, contact_id)
    except ContactError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
    return Response(status_code=status.HTTP_204_NO_CONTENT)


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
