"""Invitation links for new carers."""

from __future__ import annotations

from fastapi import APIRouter, status

from dashboard.api.schemas import InviteOut, InviteRequest
from dashboard.deps import ContextDep, CsrfChecked, ManagedHousehold
from dashboard.invites import make_invite

router = APIRouter(prefix="/households", tags=["consents"])


@router.post(
    "/{household_id}/invites",
    response_model=InviteOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[CsrfChecked],
)
def post_invite(body: InviteRequest, access: ManagedHousehold, ctx: ContextDep) -> InviteOut:
    token, expires = make_invite(ctx, access.household.id, access.user, body.scopes)
    url = f"{ctx.config.notifications.base_url.rstrip('/')}/invite/{token}"
    return InviteOut(url=url, expires=expires)
