"""Households: the caller's list, one household's status, its alerts and access log."""

from __future__ import annotations

from fastapi import APIRouter

from dashboard.api.schemas import (
    AccessEntryOut,
    AlertOut,
    HouseholdDetailOut,
    HouseholdSummaryOut,
    WeekTrendOut,
)
from dashboard.deps import AlertsHousehold, ConsentedHousehold, ContextDep, CurrentUser
from dashboard.households import access_log
from dashboard.trends import household_trends
from dashboard.views import household_alerts, household_detail, household_summaries

router = APIRouter(prefix="/households", tags=["households"])


@router.get("", response_model=list[HouseholdSummaryOut])
def list_my_households(ctx: ContextDep, user: CurrentUser) -> list[HouseholdSummaryOut]:
    """Households the caller may see, most urgent first (admins: all, without health data)."""
    return household_summaries(ctx, user)


@router.get("/{household_id}", response_model=HouseholdDetailOut)
def get_household(access: ConsentedHousehold, ctx: ContextDep) -> HouseholdDetailOut:
    """Status, last activity per room, learning progress, gateway and sensor health."""
    return household_detail(ctx, access)


@router.get("/{household_id}/alerts", response_model=list[AlertOut])
def get_alerts(access: AlertsHousehold, ctx: ContextDep) -> list[AlertOut]:
    return household_alerts(ctx, access)


@router.get("/{household_id}/access-log", response_model=list[AccessEntryOut])
def get_access_log(access: ConsentedHousehold, ctx: ContextDep) -> list[AccessEntryOut]:
    """Who looked at this household, and when (the resident sees it to trust the service)."""
    return [
        AccessEntryOut(
            ts=e.ts, username=e.username, role=e.role, action=e.action, on_behalf_of=e.on_behalf_of
        )
        for e in access_log(ctx.db, access.household.id)
    ]


@router.get("/{household_id}/trends", response_model=list[WeekTrendOut])
def get_trends(access: ConsentedHousehold, ctx: ContextDep) -> list[WeekTrendOut]:
    """The last four weeks: rising time, night toilet visits, kitchen use, activity."""
    household = access.household
    return [
        WeekTrendOut(
            week_start=w.week_start,
            days_with_data=w.days_with_data,
            rising_time=w.rising_time,
            night_toilet_visits=w.night_toilet_visits,
            kitchen_per_day=w.kitchen_per_day,
            events_per_day=w.events_per_day,
        )
        for w in household_trends(ctx.event_store, household.id, household.tz, ctx.clock.now())
    ]
