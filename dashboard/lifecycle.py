"""Acknowledging and resolving alerts; a resolution is fed back to the detector."""

from __future__ import annotations

import logging

from dagritme.models import Feedback, Resolution
from dashboard.access import HouseholdAccess, NoAccess, authorize
from dashboard.accounts import User
from dashboard.alert_store import StoredAlert, acknowledge, get_alert, resolve
from dashboard.consent import Scope
from dashboard.context import AppContext

logger = logging.getLogger(__name__)


def alert_access(
    ctx: AppContext, user: User, alert_id: str, action: str
) -> tuple[StoredAlert, HouseholdAccess]:
    """The alert, if the user holds the alerts scope for its household; else NoAccess."""
    alert = get_alert(ctx.db, alert_id)
    if alert is None:
        raise NoAccess(alert_id)
    return alert, authorize(ctx, user, alert.household, Scope.ALERTS, action)


def acknowledge_alert(ctx: AppContext, user: User, alert_id: str, note: str) -> StoredAlert:
    alert_access(ctx, user, alert_id, "POST acknowledge alert")
    return acknowledge(ctx.db, alert_id, user.display_name, note, ctx.clock.now())


def resolve_alert(
    ctx: AppContext, user: User, alert_id: str, outcome: Resolution, note: str
) -> StoredAlert:
    alert_access(ctx, user, alert_id, "POST resolve alert")
    now = ctx.clock.now()
    resolved = resolve(ctx.db, alert_id, user.display_name, outcome, note, now)
    if ctx.publisher is not None:
        ctx.publisher.publish(
            Feedback(
                household=resolved.household,
                alert_id=resolved.alert_id,
                type=resolved.type,
                resolution=outcome,
                ts=now,
            )
        )
    else:
        logger.debug("no publisher: feedback for an alert stays local")
    return resolved
