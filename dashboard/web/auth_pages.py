"""Login and logout pages."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature

from dashboard.accounts import Role, end_session, set_language
from dashboard.api.routes.auth import LoginRefused, check_login, client_address, start_session
from dashboard.context import LOGIN_TOKEN_MAX_AGE_S, SESSION_COOKIE
from dashboard.deps import ContextDep, SessionDep
from dashboard.i18n import LANGUAGES
from dashboard.web.forms import check_csrf
from dashboard.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, ctx: ContextDep) -> HTMLResponse:
    return render(request, ctx, None, "login.html", login_token=ctx.signer.dumps("login"))


@router.post("/login")
def login_submit(
    request: Request,
    ctx: ContextDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    login_token: Annotated[str, Form()] = "",
    lang: Annotated[str, Form()] = "",
) -> Response:
    error = None
    try:
        ctx.signer.loads(login_token, max_age=LOGIN_TOKEN_MAX_AGE_S)
    except BadSignature:
        error = "login.expired"
    if error is None:
        try:
            user = check_login(ctx, username, password, client_address(request))
        except LoginRefused as err:
            error = "login.too_many" if err.status_code == 429 else "login.failed"
    if error is not None:
        return render(
            request,
            ctx,
            None,
            "login.html",
            status_code=429 if error == "login.too_many" else 401,
            language=lang,
            login_token=ctx.signer.dumps("login"),
            error=error,
            username=username,
        )
    if user.language is None and lang in LANGUAGES:
        set_language(ctx.db, user.id, lang)
    target = "/me" if user.role is Role.RESIDENT else "/"
    response = RedirectResponse(target, status_code=303)
    start_session(ctx, response, user)
    return response


@router.post("/logout")
def logout_submit(
    request: Request, ctx: ContextDep, session: SessionDep, csrf_token: Annotated[str, Form()]
) -> Response:
    check_csrf(session, csrf_token)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        end_session(ctx.db, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/language")
def choose_language(
    request: Request,
    ctx: ContextDep,
    session: SessionDep,
    language: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()],
) -> Response:
    check_csrf(session, csrf_token)
    if language in LANGUAGES:
        set_language(ctx.db, session.user.id, language)
    return RedirectResponse(_same_site_path(request), status_code=303)


def _same_site_path(request: Request) -> str:
    """Back to the referring page, but only to a path on this site (no open redirect)."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.url.netloc:
        return "/"
    path = referer.path or "/"
    return path if path.startswith("/") and not path.startswith("//") else "/"
