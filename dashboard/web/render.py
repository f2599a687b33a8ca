"""Rendering pages: Jinja2 templates with the message catalogue bound to the user."""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from dashboard.accounts import Session
from dashboard.context import AppContext
from dashboard.i18n import LANGUAGES, Translator

TEMPLATES_DIR = Path(str(resources.files("dashboard").joinpath("templates")))
STATIC_DIR = Path(str(resources.files("dashboard").joinpath("static")))

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def language_for(ctx: AppContext, request: Request, session: Session | None) -> str:
    if session is not None and session.user.language in LANGUAGES:
        return session.user.language or ctx.config.default_language
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    return ctx.config.default_language


def render(
    request: Request,
    ctx: AppContext,
    session: Session | None,
    name: str,
    status_code: int = 200,
    language: str | None = None,
    **values: Any,
) -> HTMLResponse:
    language = language if language in LANGUAGES else language_for(ctx, request, session)
    context: dict[str, Any] = {
        "t": Translator(language),
        "lang": language,
        "languages": LANGUAGES,
        "user": session.user if session else None,
        "csrf_token": session.csrf_token if session else "",
        **values,
    }
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def _local(ts: Any, tz: str, fmt: str = "%d-%m %H:%M") -> str:
    if not isinstance(ts, datetime):
        return "—"
    return ts.astimezone(ZoneInfo(tz)).strftime(fmt)


templates.env.filters["local"] = _local


def _breakable(text: Any) -> Markup:
    """Escaped text with line-break opportunities after _ - . (long sensor ids wrap there)."""
    escaped = str(escape(str(text)))
    for mark in ("_", "-", "."):
        escaped = escaped.replace(mark, f"{mark}<wbr>")
    return Markup(escaped)  # noqa: S704 - built from escaped text only


templates.env.filters["breakable"] = _breakable


ACCESS_WORDS = (
    ("erase", "access.erase"),
    ("/export", "access.export"),
    ("alert", "access.alerts"),
    ("/consents", "access.consents"),
    ("/contacts", "access.contacts"),
    ("/access-log", "access.access_log"),
    ("overview", "access.overview"),
)


def access_words(action: str) -> str:
    """A catalogue key that says in plain words what an access-log entry was."""
    for fragment, key in ACCESS_WORDS:
        if fragment in action:
            return key
    return "access.summary"


templates.env.globals["access_words"] = access_words
