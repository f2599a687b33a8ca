"""What the pages and the API show: household lists and details, built from the dashboard
database and the event store, trimmed to the caller's consented scopes."""

from __future__ import annotations

from datetime import datetime

from dashboard.access import HouseholdAccess
from dashboard.accounts import Role, User
from dashboard.alert_store import (
    StoredAlert,
    alert_summaries,
    device_health,
    gateway_statuses,
    list_alerts,
)
from dashboard.api.schemas import (
    AlertOut,
    DeviceOut,
    HouseholdDetailOut,
    HouseholdSummaryOut,
    LearningOut,
    RoomActivityOut,
)
from dashboard.consent import (
    ALL_SCOPES,
    ConsentRecord,
    Scope,
    paused_until,
    pauses,
    records_for_subject,
    scopes_of,
)
from dashboard.context import AppContext
from dashboard.detector_status import get_detector_status
from dashboard.freshness import load_freshness, no_data_since
from dashboard.households import list_households, log_accesses
from dashboard.status import (
    EXACT_PRESENCE_BUCKET,
    LearningSource,
    certain_presence,
    last_presence,
    learning_progress,
    learning_window,
    presence_search_windows,
    traffic_light,
    urgency_key,
)
from store.base import EventStore, SensorLastSeen

STATUS_SCOPES = frozenset({Scope.ALERTS, Scope.SUMMARY})


def visible_scopes(user: User, ctx: AppContext) -> dict[str, frozenset[Scope]]:
    """Household id -> scopes, for every household the user may see anything of."""
    if user.role is Role.RESIDENT and user.household:
        return {user.household: ALL_SCOPES}
    by_household = records_for_subject(ctx.db, user.id)
    found = {hh: scopes_of(records, user.id) for hh, records in by_household.items()}
    return {hh: scopes for hh, scopes in found.items() if scopes}


def household_summaries(ctx: AppContext, user: User) -> list[HouseholdSummaryOut]:
    """The caller's households, most urgent first; one access-log entry per status shown."""
    now = ctx.clock.now()
    scopes_by_household = visible_scopes(user, ctx)
    if user.role is Role.ADMIN:
        households = list_households(ctx.db)
    else:
        households = list_households(ctx.db, list(scopes_by_household))
    pause_records: dict[str, list[ConsentRecord]] = pauses(ctx.db)
    summaries = alert_summaries(ctx.db)
    gateways = gateway_statuses(ctx.db)
    freshness = load_freshness(ctx.db)
    settings = ctx.config.freshness
    rows: list[HouseholdSummaryOut] = []
    logged: list[str] = []
    for household in households:
        scopes = scopes_by_household.get(household.id, frozenset())
        shows_status = bool(scopes & STATUS_SCOPES)
        shows_alerts = Scope.ALERTS in scopes
        paused = paused_until(pause_records.get(household.id, []), now)
        summary = summaries.get(household.id)
        gateway = gateways.get(household.id)
        stopped = no_data_since(freshness.get(household.id), household.created, now, settings)
        light = traffic_light(
            summary.worst_open if summary else None,
            None if gateway is None else gateway[0] == "online",
            paused is not None,
            stopped is not None,
        )
        if shows_status:
            logged.append(household.id)
        rows.append(
            HouseholdSummaryOut(
                id=household.id,
                display_name=household.display_name,
                tz=household.tz,
                scopes=sorted(scopes),
                status=light if shows_status else None,
                open_alerts=(summary.open_count if summary else 0) if shows_alerts else None,
                latest_alert=summary.latest_ts if summary and shows_alerts else None,
                gateway=gateway[0] if gateway and shows_status else None,
                paused_until=paused if shows_status else None,
                no_data=stopped is not None and shows_status,
                no_data_since=stopped.since if stopped and shows_status else None,
            )
        )
    if logged:
        log_accesses(ctx.db, user, logged, "GET overview", now)
    rows.sort(
        key=lambda r: (
            (r.status is None,)
            + urgency_key(
                r.status or traffic_light(None, None, True), r.latest_alert, r.display_name
            )
        )
    )
    return rows


def household_detail(ctx: AppContext, access: HouseholdAccess) -> HouseholdDetailOut:
    household = access.household
    now = ctx.clock.now()
    last_seen = ctx.event_store.last_seen(household.id)
    summary = alert_summaries(ctx.db).get(household.id)
    gateway = gateway_statuses(ctx.db).get(household.id)
    stopped = no_data_since(
        load_freshness(ctx.db, household.id).get(household.id),
        household.created,
        now,
        ctx.config.freshness,
    )
    return HouseholdDetailOut(
        id=household.id,
        display_name=household.display_name,
        tz=household.tz,
        scopes=sorted(access.scopes),
        status=traffic_light(
            summary.worst_open if summary else None,
            None if gateway is None else gateway[0] == "online",
            access.paused_until is not None,
            stopped is not None,
        ),
        paused_until=access.paused_until,
        last_activity=household_last_activity(ctx.event_store, household.id, last_seen),
        rooms=[
            RoomActivityOut(room=s.room, sensor=s.sensor, ts=s.ts, value=s.value)
            for s in sorted(last_seen, key=lambda s: s.ts, reverse=True)
        ],
        learning=household_learning(ctx, household.id, household.tz),
        gateway=gateway[0] if gateway else None,
        gateway_ts=gateway[1] if gateway else None,
        devices=[
            DeviceOut(
                sensor=d.sensor,
                ts=d.ts,
                availability=d.availability,
                battery=d.battery,
                linkquality=d.linkquality,
            )
            for d in device_health(ctx.db, household.id)
        ],
        open_alerts=(summary.open_count if summary else 0) if access.allows(Scope.ALERTS) else None,
        no_data=stopped is not None,
        no_data_since=stopped.since if stopped else None,
    )


def household_learning(ctx: AppContext, household: str, tz: str) -> LearningOut:
    """The detector's own learning status; until it has reported, an estimate from the days
    with data in the event store (labelled as such: the detector counts lived-in days only)."""
    status = get_detector_status(ctx.db, household)
    if status is not None:
        return LearningOut(
            source=LearningSource.DETECTOR,
            days_seen=status.learning_days_seen,
            days_needed=status.learning_days_needed,
            fraction=status.progress,
            learned=status.learned,
            usual=status.usual,
            as_of=status.ts,
        )
    needed = ctx.config.learning_days
    start, end = learning_window(ctx.clock.now(), tz, needed)
    progress = learning_progress(ctx.event_store.daily(household, start, end, tz), needed)
    return LearningOut(
        source=LearningSource.ESTIMATE,
        days_seen=min(progress.days_with_data, needed),
        days_needed=needed,
        fraction=progress.fraction,
        learned=progress.learned,
        days_with_data=progress.days_with_data,
    )


def household_last_activity(
    store: EventStore, household: str, last_seen: list[SensorLastSeen]
) -> datetime | None:
    """The newest presence, as the detector counts it (see dashboard.status), not the newest
    message: a motion sensor's "off" is its timeout, so the "on" before it is looked up."""
    certain = certain_presence(last_seen)
    for start, end in presence_search_windows(last_seen):
        recent = store.activity(household, start, end, EXACT_PRESENCE_BUCKET)
        if recent:
            return last_presence(certain, recent)
    return certain


def alert_out(alert: StoredAlert) -> AlertOut:
    """The API shape of a stored alert: the same fields, read by name."""
    return AlertOut.model_validate(alert, from_attributes=True)


def household_alerts(ctx: AppContext, access: HouseholdAccess) -> list[AlertOut]:
    return [alert_out(a) for a in list_alerts(ctx.db, access.household.id)]
