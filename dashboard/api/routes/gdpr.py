"""GDPR: export (the resident) and erasure (the resident, or an admin on their request)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status

from dashboard.accounts import Role
from dashboard.deps import ContextDep, CsrfChecked, ManagedHousehold
from dashboard.gdpr import erase_household, export_zip

router = APIRouter(prefix="/households", tags=["gdpr"])


@router.get(
    "/{household_id}/export",
    responses={200: {"content": {"application/zip": {}}, "description": "JSON and CSV files"}},
)
def export(access: ManagedHousehold, ctx: ContextDep) -> Response:
    if access.user.role is not Role.RESIDENT:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only the resident exports their data")
    body = export_zip(ctx, access.household)
    name = f"dagritme-{access.household.id}.zip"
    return Response(
        body,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.delete("/{household_id}/data", dependencies=[CsrfChecked])
def erase(access: ManagedHousehold, ctx: ContextDep) -> dict[str, int]:
    """Erase every event, alert and derived record; consents and access log are kept."""
    return erase_household(ctx, access.household, access.user)
