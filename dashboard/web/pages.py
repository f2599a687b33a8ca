"""Server-rendered pages: the overview (nurse caseload), a household, the resident's page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dashboard.access import HouseholdAccess, authorize
from dashboard.accounts import Role, User
from dashboard.alert_store import list_alerts
from dashboard.api.schemas import HouseholdDetailOut, RoomActivityOut
from dashboard.consent import Scope
from dashboard.consent_actions import consent_state
from dashboard.deps import ConsentedHousehold, ContextDep, SessionDep
from dashboard.heatmap import heatmap_svg, rhythm_grid
from dashboard.households import access_log
from dashboard.i18n import Translator
from dashboard.notify import notifications
from dashboard.trends import household_trends
from dashboard.views import household_detail, household_summaries
from dashboard.web.render import language_for, render

router = APIRouter(include_in_schema=False)


def latest_per_room(detail: HouseholdDetailOut) -> list[RoomActivityOut]:
    """The newest sensor change of each room (detail.rooms is newest first)."""
    seen: dict[str, RoomActivityOut] = {}
    for row in detail.rooms:
        seen.setdefault(row.room.value, row)
    return list(seen.values())


def manages_contacts(user: User, access: HouseholdAccess) -> bool:
    """Whether the contacts page is open to this user (see access.authorize_contacts)."""
    if user.role is Role.NURSE:
        return access.allows(Scope.ALERTS)
    return user.role is Role.ADMIN or user.household == access.household.id


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, ctx: ContextDep, session: SessionDep) -> Response:
    if session.user.role is Role.RESIDENT:
        return RedirectResponse("/me", status_code=303)
    rows = household_summaries(ctx, session.user)
    counts = {
        light: sum(1 for r in rows if r.status == light)
        for light in ("red", "amber", "no_data", "green", "grey")
    }
    return render(request, ctx, session, "overview.html", rows=rows, counts=counts)


@router.get("/households/{household_id}", response_class=HTMLResponse)
def household_page(
    request: Request, ctx: ContextDep, session: SessionDep, access: ConsentedHousehold
) -> HTMLResponse:
    t = Translator(language_for(ctx, request, session))
    detail = household_detail(ctx, access)
    alerts = list_alerts(ctx.db, access.household.id) if access.allows(Scope.ALERTS) else None
    failures = (
        [n for n in notifications(ctx.db, access.household.id) if n.status == "failed"]
        if access.allows(Scope.ALERTS)
        else []
    )
    heatmap = None
    if access.allows(Scope.TIMELINE):
        grid = rhythm_grid(
            ctx.event_store, access.household.id, access.household.tz, ctx.clock.now()
        )
        heatmap = heatmap_svg(
            grid, t("heatmap.title"), t("heatmap.events"), [t(f"day.{n}") for n in range(7)]
        )
    return render(
        request,
        ctx,
        session,
        "household.html",
        household=access.household,
        detail=detail,
        alerts=alerts,
        heatmap=heatmap,
        failures=failures,
        room_rows=latest_per_room(detail),
        manages_contacts=manages_contacts(session.user, access),
        trends=household_trends(
            ctx.event_store, access.household.id, access.household.tz, ctx.clock.now()
        ),
    )


@router.get("/me", response_class=HTMLResponse)
def resident_page(request: Request, ctx: ContextDep, session: SessionDep) -> Response:
    user = session.user
    if user.role is not Role.RESIDENT or user.household is None:
        return RedirectResponse("/", status_code=303)
    access = authorize(ctx, user, user.household, Scope.SUMMARY, "GET resident page")
    detail = household_detail(ctx, access)
    open_alerts = [a for a in list_alerts(ctx.db, user.household) if a.status != "resolved"]
    return render(
        request,
        ctx,
        session,
        "resident.html",
        household=access.household,
        detail=detail,
        open_alerts=open_alerts,
        consents=consent_state(ctx, user.household),
        accesses=[
            e for e in access_log(ctx.db, user.household, limit=200) if e.username != user.username
        ][:20],
    )
