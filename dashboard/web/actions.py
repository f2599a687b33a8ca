"""Form posts from the pages: acknowledge, resolve, consent, pause. Each checks CSRF."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, status
from fastapi.responses import RedirectResponse, Response

from dagritme.models import Resolution
from dashboard.access import NoAccess
from dashboard.alert_store import AlertStateError
from dashboard.api.schemas import ConsentRequest
from dashboard.consent import ConsentAction, Scope
from dashboard.consent_actions import ConsentRequestError, apply_consent
from dashboard.deps import ContextDep, ManagedHousehold, SessionDep
from dashboard.lifecycle import acknowledge_alert, resolve_alert
from dashboard.web.forms import check_csrf

router = APIRouter(include_in_schema=False)

PEOPLE_OUTCOMES = {r.value for r in Resolution if r is not Resolution.AUTO}


def _back(household: str) -> RedirectResponse:
    return RedirectResponse(f"/households/{household}#alerts", status_code=303)


@router.post("/alerts/{alert_id}/ack")
def ack_form(
    alert_id: str,
    ctx: ContextDep,
    session: SessionDep,
    csrf_token: Annotated[str, Form()],
    note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    check_csrf(session, csrf_token)
    try:
        alert = acknowledge_alert(ctx, session.user, alert_id, note)
    except NoAccess as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "alert not found") from err
    except AlertStateError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
    return _back(alert.household)


@router.post("/alerts/{alert_id}/resolve")
def resolve_form(
    alert_id: str,
    ctx: ContextDep,
    session: SessionDep,
    csrf_token: Annotated[str, Form()],
    outcome: Annotated[str, Form()],
    note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    check_csrf(session, csrf_token)
    if outcome not in PEOPLE_OUTCOMES:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "unknown outcome")
    try:
        alert = resolve_alert(ctx, session.user, alert_id, Resolution(outcome), note)
    except NoAccess as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "alert not found") from err
    except AlertStateError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
    return _back(alert.household)


@router.post("/households/{household_id}/consents")
def consent_form(
    access: ManagedHousehold,
    ctx: ContextDep,
    session: SessionDep,
    csrf_token: Annotated[str, Form()],
    action: Annotated[ConsentAction, Form()],
    username: Annotated[str | None, Form()] = None,
    scope: Annotated[Scope | None, Form()] = None,
    pause_hours: Annotated[float | None, Form(gt=0, le=24 * 90)] = None,
) -> Response:
    check_csrf(session, csrf_token)
    until = None
    if action is ConsentAction.PAUSE:
        until = ctx.clock.now() + timedelta(hours=pause_hours or 24)
    body = ConsentRequest(action=action, username=username or None, scope=scope, until=until)
    try:
        apply_consent(ctx, access, body)
    except ConsentRequestError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from err
    target = "/me" if session.user.household == access.household.id else "/"
    return RedirectResponse(target, status_code=303)
