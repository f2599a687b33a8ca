"""Annotated dependencies: the context, the session, the user, and consented households.

Every household route takes one of the `...Household` dependencies; they call
`access.authorize`, which checks consent and writes the access-log entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from dashboard.access import (
    HouseholdAccess,
    NoAccess,
    authorize,
    authorize_contacts,
    authorize_management,
)
from dashboard.accounts import Role, Session, User, csrf_matches, get_session
from dashboard.consent import Scope
from dashboard.context import SESSION_COOKIE, AppContext

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class NotAuthenticated(Exception):
    """No valid session: the API answers 401, pages redirect to the login page."""


def get_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


ContextDep = Annotated[AppContext, Depends(get_context)]


def get_current_session(request: Request, ctx: ContextDep) -> Session:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotAuthenticated
    session = get_session(ctx.db, token, ctx.clock.now())
    if session is None:
        raise NotAuthenticated
    return session


SessionDep = Annotated[Session, Depends(get_current_session)]


def get_current_user(session: SessionDep) -> User:
    return session.user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_admin(user: CurrentUser) -> User:
    if user.role is not Role.ADMIN:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admins only")
    return user


AdminUser = Annotated[User, Depends(require_admin)]


def csrf_protected(request: Request, session: SessionDep) -> None:
    """Unsafe API calls need a JSON body (forms cannot send one cross-site) or the token."""
    if request.method in SAFE_METHODS:
        return
    header = request.headers.get("x-csrf-token")
    if header is not None:
        if not csrf_matches(session.csrf_token, header):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "CSRF token does not match")
        return
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "send JSON or the X-CSRF-Token header")


CsrfChecked = Depends(csrf_protected)


def _action(request: Request, household_id: str) -> str:
    """What was read: method and path, with the id kept out of the description."""
    return f"{request.method} {request.url.path.replace(household_id, '{household_id}')}"


def consented(scope: Scope) -> Callable[[str, Request, AppContext, User], HouseholdAccess]:
    """A dependency for routes with a `household_id` path parameter."""

    def dependency(
        household_id: str, request: Request, ctx: ContextDep, user: CurrentUser
    ) -> HouseholdAccess:
        try:
            return authorize(ctx, user, household_id, scope, _action(request, household_id))
        except NoAccess as err:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "household not found") from err

    return dependency


ConsentedHousehold = Annotated[HouseholdAccess, Depends(consented(Scope.SUMMARY))]
AlertsHousehold = Annotated[HouseholdAccess, Depends(consented(Scope.ALERTS))]
TimelineHousehold = Annotated[HouseholdAccess, Depends(consented(Scope.TIMELINE))]


def consent_manager(
    household_id: str, request: Request, ctx: ContextDep, user: CurrentUser
) -> HouseholdAccess:
    try:
        return authorize_management(ctx, user, household_id, _action(request, household_id))
    except NoAccess as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "household not found") from err


ManagedHousehold = Annotated[HouseholdAccess, Depends(consent_manager)]


def contacts_manager(
    household_id: str, request: Request, ctx: ContextDep, user: CurrentUser
) -> HouseholdAccess:
    try:
        return authorize_contacts(ctx, user, household_id, _action(request, household_id))
    except NoAccess as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "household not found") from err


ContactsHousehold = Annotated[HouseholdAccess, Depends(contacts_manager)]
