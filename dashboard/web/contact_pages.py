"""The contacts page: who is notified, in which order, and through which address.

Open to the resident, a nurse with the alerts consent, and an admin; every form checks
the CSRF token and every change goes back to the page (post/redirect/get).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dashboard.access import HouseholdAccess
from dashboard.accounts import Session
from dashboard.contacts import (
    MAX_POSITION,
    ContactError,
    Move,
    contact_rows,
    create_contact,
    eligible_people,
    move_contact,
    remove_contact,
)
from dashboard.context import AppContext
from dashboard.deps import ContactsHousehold, ContextDep, SessionDep
from dashboard.web.forms import check_csrf
from dashboard.web.render import render

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    ctx: AppContext,
    session: Session,
    access: HouseholdAccess,
    status_code: int = 200,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    household = access.household
    rows = contact_rows(ctx.db, household.id)
    next_step = max((row.position for row in rows), default=-1) + 1
    back = "/me" if session.user.household == household.id else f"/households/{household.id}"
    return render(
        request,
        ctx,
        session,
        "contacts.html",
        status_code=status_code,
        household=household,
        rows=rows,
        people=eligible_people(ctx.db, household.id),
        escalate_minutes=round(ctx.config.notifications.escalate_after_minutes),
        max_step=MAX_POSITION + 1,
        next_step=min(next_step, MAX_POSITION) + 1,
        back=back,
        error=error,
        form=form or {},
    )


def _back(household: str) -> RedirectResponse:
    return RedirectResponse(f"/households/{household}/contacts", status_code=303)


@router.get("/households/{household_id}/contacts", response_class=HTMLResponse)
def contacts_page(
    request: Request, ctx: ContextDep, session: SessionDep, access: ContactsHousehold
) -> HTMLResponse:
    return _page(request, ctx, session, access)


@router.post("/households/{household_id}/contacts")
def add_contact_form(
    request: Request,
    ctx: ContextDep,
    session: SessionDep,
    access: ContactsHousehold,
    csrf_token: Annotated[str, Form()],
    username: Annotated[str, Form(max_length=200)] = "",
    apprise_url: Annotated[str, Form(max_length=2000)] = "",
    step: Annotated[int, Form(ge=1, le=MAX_POSITION + 1)] = 1,
) -> Response:
    check_csrf(session, csrf_token)
    household = access.household.id
    try:
        create_contact(ctx.db, household, username, apprise_url, step - 1, ctx.clock.now())
    except ContactError as err:
        return _page(
            request,
            ctx,
            session,
            access,
            status_code=422,
            error=f"contacts.error_{err.code}",
            form={"username": username, "step": str(step)},
        )
    return _back(household)


@router.post("/households/{household_id}/contacts/{contact_id}/move")
def move_contact_form(
    contact_id: int,
    ctx: ContextDep,
    session: SessionDep,
    access: ContactsHousehold,
    csrf_token: Annotated[str, Form()],
    direction: Annotated[Move, Form()],
) -> Response:
    check_csrf(session, csrf_token)
    try:
        move_contact(ctx.db, access.household.id, contact_id, direction)
    except ContactError:
        pass  # removed meanwhile (another tab): the page shows the chain as it is
    return _back(access.household.id)


@router.post("/households/{household_id}/contacts/{contact_id}/remove")
def remove_contact_form(
    contact_id: int,
    ctx: ContextDep,
    session: SessionDep,
    access: ContactsHousehold,
    csrf_token: Annotated[str, Form()],
) -> Response:
    check_csrf(session, csrf_token)
    try:
        remove_contact(ctx.db, access.household.id, contact_id)
    except ContactError:
        pass  # removed meanwhile (another tab): nothing left to do
    return _back(access.household.id)
