"""The calm daily "all is well" message, for contacts who hold the summary scope.

It is sent once per local day, after the configured hour, only when the day had activity
and no warning or urgent alert that turned out to be real or is still open.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import apprise

from dashboard.consent import Scope
from dashboard.db import Database, to_db_ts
from dashboard.households import Household, list_households
from dashboard.i18n import translate
from dashboard.notify import Notifier, recipients
from store.base import DailyAggregate, EventStore

logger = logging.getLogger(__name__)

CALM_RESOLUTIONS = ("false_alarm", "resident_ok", "auto")


def worrying_alerts(db: Database, household: str, start: datetime, end: datetime) -> int:
    row = db.query_one(
        "SELECT COUNT(*) AS n FROM alerts WHERE household = ? AND ts >= ? AND ts < ?"
        " AND severity IN ('warning', 'urgent')"
        " AND (status != 'resolved' OR resolution NOT IN (?, ?, ?))",
        (household, to_db_ts(start), to_db_ts(end), *CALM_RESOLUTIONS),
    )
    return int(row["n"]) if row else 0


def summary_text(language: str, household: Household, day: DailyAggregate) -> tuple[str, str]:
    first = (
        day.first_activity.astimezone(ZoneInfo(household.tz)).strftime("%H:%M")
        if day.first_activity
        else "—"
    )
    title = translate(language, "notify.summary_title")
    body = translate(
        language,
        "notify.summary_body",
        name=household.display_name,
        first=first,
        events=day.events,
    )
    return title, body


def _local_day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz)
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)


async def send_daily_summaries(
    notifier: Notifier, db: Database, store: EventStore, now: datetime, hour: int
) -> int:
    """One tick: queue today's summary where it is due; returns how many were queued."""
    queued = 0
    for household in list_households(db):
        if household.erased is not None:
            continue
        local = now.astimezone(ZoneInfo(household.tz))
        if local.hour < hour:
            continue
        targets = recipients(db, household.id, now, Scope.SUMMARY)
        if not targets:
            continue
        start, end = _local_day_bounds(local.date(), household.tz)
        if worrying_alerts(db, household.id, start, end):
            continue
        days = store.daily(
            household.id, local.date(), local.date() + timedelta(days=1), household.tz
        )
        if not days or days[0].events == 0:
            continue  # a day without any activity is not "all is well"
        key = f"summary:{local.date().isoformat()}"
        for contact in targets:
            text = summary_text(notifier.language_of(contact), household, days[0])
            if notifier.queue(key, household.id, contact, text, apprise.NotifyType.SUCCESS, now):
                queued += 1
    if queued:
        logger.info("queued %d daily summaries", queued)
    return queued
