"""The one place where consent is enforced and every household read is logged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dashboard.accounts import Role, User
from dashboard.consent import Scope, access_scopes, household_records, paused_until
from dashboard.context import AppContext
from dashboard.households import Household, get_household, log_access


class NoAccess(LookupError):
    """Unknown household or no consent: both look the same from outside."""


@dataclass(frozen=True, slots=True)
class HouseholdAccess:
    household: Household
    user: User
    scopes: frozenset[Scope]
    paused_until: datetime | None

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes


def authorize(
    ctx: AppContext, user: User, household_id: str, scope: Scope, action: str
) -> HouseholdAccess:
    """Check that `user` holds `scope` for the household and log the read; else NoAccess."""
    household = get_household(ctx.db, household_id)
    if household is None:
        raise NoAccess(household_id)
    records = household_records(ctx.db, household_id)
    scopes = access_scopes(user, household_id, records)
    if scope not in scopes:
        raise NoAccess(household_id)
    now = ctx.clock.now()
    log_access(ctx.db, user, household_id, action, now)
    return HouseholdAccess(household, user, scopes, paused_until(records, now))


def authorize_management(
    ctx: AppContext, user: User, household_id: str, action: str
) -> HouseholdAccess:
    """Consents, export and erasure: the resident themselves, or an admin on their behalf.

    The admin gets no health-data scopes from this; only the management routes accept it.
    """
    household = get_household(ctx.db, household_id)
    if household is None:
        raise NoAccess(household_id)
    is_resident = user.role is Role.RESIDENT and user.household == household_id
    if not is_resident and user.role is not Role.ADMIN:
        raise NoAccess(household_id)
    records = household_records(ctx.db, household_id)
    now = ctx.clock.now()
    log_access(ctx.db, user, household_id, action, now)
    return HouseholdAccess(
        household, user, access_scopes(user, household_id, records), paused_until(records, now)
    )


def authorize_contacts(
    ctx: AppContext, user: User, household_id: str, action: str
) -> HouseholdAccess:
    """The notification chain: the resident, an admin on their behalf, or a nurse who holds
    the alerts consent for the household."""
    if user.role is Role.NURSE:
        return authorize(ctx, user, household_id, Scope.ALERTS, action)
    return authorize_management(ctx, user, household_id, action)
