"""Form helpers: CSRF check for pages."""

from __future__ import annotations

from fastapi import HTTPException, status

from dashboard.accounts import Session, csrf_matches


def check_csrf(session: Session, token: str | None) -> None:
    if not csrf_matches(session.csrf_token, token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the form has expired; reload the page")
