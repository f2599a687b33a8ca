"""The alert lifecycle: detail, acknowledge (who, note), resolve (outcome)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from dagritme.models import Resolution
from dashboard.access import NoAccess
from dashboard.alert_store import AlertStateError
from dashboard.api.schemas import AckRequest, AlertOut, ResolveRequest
from dashboard.deps import ContextDep, CsrfChecked, CurrentUser
from dashboard.lifecycle import acknowledge_alert, alert_access, resolve_alert
from dashboard.views import alert_out

router = APIRouter(prefix="/alerts", tags=["alerts"])

NOT_FOUND = "alert not found"


@router.get("/{alert_id}", response_model=AlertOut)
def get_alert(alert_id: str, ctx: ContextDep, user: CurrentUser) -> AlertOut:
    """One alert with its explanation and evidence."""
    try:
        alert, _ = alert_access(ctx, user, alert_id, "GET alert")
    except NoAccess as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND) from err
    return alert_out(alert)


@router.post("/{alert_id}/ack", response_model=AlertOut, dependencies=[CsrfChecked])
def ack(alert_id: str, body: AckRequest, ctx: ContextDep, user: CurrentUser) -> AlertOut:
    try:
        return alert_out(acknowledge_alert(ctx, user, alert_id, body.note))
    except NoAccess as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND) from err
    except AlertStateError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err


@router.post("/{alert_id}/resolve", response_model=AlertOut, dependencies=[CsrfChecked])
def resolve(alert_id: str, body: ResolveRequest, ctx: ContextDep, user: CurrentUser) -> AlertOut:
    try:
        return alert_out(resolve_alert(ctx, user, alert_id, Resolution(body.outcome), body.note))
    except NoAccess as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND) from err
    except AlertStateError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
