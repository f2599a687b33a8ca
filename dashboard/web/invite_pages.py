"""The invited carer's side: open the link, choose a user name and password, done."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dashboard.api.routes.auth import start_session
from dashboard.consent import Scope
from dashboard.deps import ContextDep, ManagedHousehold, SessionDep
from dashboard.households import get_household
from dashboard.invites import InviteError, accept_invite, make_invite, read_invite
from dashboard.web.forms import check_csrf
from dashboard.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/invite/{token}", response_class=HTMLResponse)
def invite_page(token: str, request: Request, ctx: ContextDep) -> HTMLResponse:
    try:
        invite = read_invite(ctx, token)
    except InviteError as err:
        return render(request, ctx, None, "invite.html", status_code=404, error=str(err))
    household = get_household(ctx.db, invite.household)
    return render(
        request,
        ctx,
        None,
        "invite.html",
        token=token,
        scopes=invite.scopes,
        household_name=household.display_name if household else "",
    )


@router.post("/invite/{token}")
def accept(
    token: str,
    request: Request,
    ctx: ContextDep,
    username: Annotated[str, Form(min_length=2, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=200)],
    display_name: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    try:
        user = accept_invite(ctx, token, username, password, display_name)
    except InviteError as err:
        return render(
            request, ctx, None, "invite.html", status_code=422, error=str(err), token=token
        )
    response = RedirectResponse("/", status_code=303)
    start_session(ctx, response, user)
    return response


@router.post("/households/{household_id}/invite", response_class=HTMLResponse)
def make_invite_form(
    request: Request,
    access: ManagedHousehold,
    ctx: ContextDep,
    session: SessionDep,
    csrf_token: Annotated[str, Form()],
    scope: Annotated[list[Scope], Form()],
) -> HTMLResponse:
    check_csrf(session, csrf_token)
    token, _ = make_invite(ctx, access.household.id, session.user, scope)
    url = f"{ctx.config.notifications.base_url.rstrip('/')}/invite/{token}"
    return render(request, ctx, session, "invite.html", made_url=url)
