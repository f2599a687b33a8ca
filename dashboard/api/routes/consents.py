"""Consents: the resident (or an admin on their behalf) grants, revokes and pauses."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from dashboard.accounts import list_users
from dashboard.api.schemas import ConsentOut, ConsentRequest, ConsentStateOut
from dashboard.consent_actions import (
    ConsentRequestError,
    apply_consent,
    consent_out,
    consent_state,
)
from dashboard.deps import ContextDep, CsrfChecked, ManagedHousehold

router = APIRouter(prefix="/households", tags=["consents"])


@router.get("/{household_id}/consents", response_model=ConsentStateOut)
def get_consents(access: ManagedHousehold, ctx: ContextDep) -> ConsentStateOut:
    return consent_state(ctx, access.household.id)


@router.post(
    "/{household_id}/consents",
    response_model=ConsentOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[CsrfChecked],
)
def post_consent(body: ConsentRequest, access: ManagedHousehold, ctx: ContextDep) -> ConsentOut:
    """Append a consent record: grant/revoke a scope for a person, pause or resume."""
    try:
        record = apply_consent(ctx, access, body)
    except ConsentRequestError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from err
    names = {user.id: user.username for user in list_users(ctx.db)}
    return consent_out(record, names)
