"""Invitation links: the resident (or an admin on their behalf) invites a new carer.

The link carries a signed token naming the household, the inviter and the scopes; it is
valid for a week and once. Accepting it creates the carer account and records the grants
as consent given by the inviter.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from dashboard.accounts import AccountError, Role, User, create_user
from dashboard.consent import ConsentAction, Scope, record_consent
from dashboard.context import AppContext
from dashboard.db import to_db_ts
from dashboard.households import get_household

INVITE_LIFETIME = timedelta(days=7)


class InviteError(ValueError):
    """A link that is forged, expired, used, or for a household that is gone."""


@dataclass(frozen=True, slots=True)
class Invite:
    household: str
    invited_by: int
    scopes: tuple[Scope, ...]
    expires: datetime
    nonce: str


def _serializer(ctx: AppContext) -> URLSafeSerializer:
    return URLSafeSerializer(ctx.config.secret_key.get_secret_value(), salt="dagritme-invite")


def make_invite(
    ctx: AppContext, household: str, by: User, scopes: list[Scope]
) -> tuple[str, datetime]:
    expires = ctx.clock.now() + INVITE_LIFETIME
    token = _serializer(ctx).dumps(
        {
            "hh": household,
            "by": by.id,
            "scopes": sorted({s.value for s in scopes}),
            "exp": expires.timestamp(),
            "nonce": secrets.token_urlsafe(12),
        }
    )
    return token, expires


def read_invite(ctx: AppContext, token: str) -> Invite:
    try:
        data = _serializer(ctx).loads(token)
        invite = Invite(
            household=str(data["hh"]),
            invited_by=int(data["by"]),
            scopes=tuple(Scope(s) for s in data["scopes"]),
            expires=datetime.fromtimestamp(float(data["exp"]), tz=ctx.clock.now().tzinfo),
            nonce=str(data["nonce"]),
        )
    except (BadSignature, KeyError, TypeError, ValueError) as err:
        raise InviteError("this invitation link is not valid") from err
    if invite.expires <= ctx.clock.now():
        raise InviteError("this invitation link has expired")
    if ctx.db.query_one("SELECT 1 FROM invites_used WHERE nonce = ?", (invite.nonce,)):
        raise InviteError("this invitation link has been used already")
    household = get_household(ctx.db, invite.household)
    if household is None or household.erased is not None:
        raise InviteError("this invitation link is not valid")
    return invite


def accept_invite(
    ctx: AppContext, token: str, username: str, password: str, display_name: str
) -> User:
    invite = read_invite(ctx, token)
    now = ctx.clock.now()
    try:
        user = create_user(
            ctx.db,
            username=username,
            password=password,
            role=Role.CARER,
            now=now,
            display_name=display_name or username,
        )
    except AccountError as err:
        raise InviteError(str(err)) from err
    ctx.db.execute(
        "INSERT INTO invites_used (nonce, user_id, ts) VALUES (?, ?, ?)",
        (invite.nonce, user.id, to_db_ts(now)),
    )
    for scope in invite.scopes:
        record_consent(
            ctx.db,
            household=invite.household,
            action=ConsentAction.GRANT,
            recorded_by=invite.invited_by,
            text_version=ctx.config.consent_text_version,
            now=now,
            subject_user_id=user.id,
            scope=scope,
        )
    return user
