"""Login and logout for the API (the same session cookie as the pages)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status

from dashboard.accounts import User, authenticate, create_session, end_session, get_session
from dashboard.api.schemas import LoginRequest, LoginResponse, UserOut
from dashboard.context import SESSION_COOKIE, AppContext
from dashboard.deps import ContextDep, CsrfChecked, CurrentUser

router = APIRouter(tags=["auth"])


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        language=user.language,
        household=user.household,
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def start_session(ctx: AppContext, response: Response, user: User) -> str:
    token = create_session(ctx.db, user, ctx.clock.now(), ctx.session_lifetime)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(ctx.session_lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=ctx.config.secure_cookies,
        path="/",
    )
    return token


class LoginRefused(Exception):
    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason


def check_login(ctx: AppContext, username: str, password: str, address: str) -> User:
    """Password check behind the rate limiter; raises LoginRefused (401 or 429)."""
    now = ctx.clock.now()
    if ctx.limiter.blocked(username, address, now):
        raise LoginRefused(status.HTTP_429_TOO_MANY_REQUESTS, "too many failed logins")
    user = authenticate(ctx.db, username, password)
    if user is None:
        ctx.limiter.failed(username, address, now)
        raise LoginRefused(status.HTTP_401_UNAUTHORIZED, "wrong user name or password")
    ctx.limiter.succeeded(username, address)
    return user


@router.post("/login", response_model=LoginResponse)
def login(
    body: LoginRequest, request: Request, response: Response, ctx: ContextDep
) -> LoginResponse:
    try:
        user = check_login(ctx, body.username, body.password, client_address(request))
    except LoginRefused as err:
        raise HTTPException(err.status_code, err.reason) from err
    token = start_session(ctx, response, user)
    session = get_session(ctx.db, token, ctx.clock.now())
    assert session is not None
    return LoginResponse(user=user_out(user), csrf_token=session.csrf_token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, dependencies=[CsrfChecked])
def logout(request: Request, response: Response, ctx: ContextDep, user: CurrentUser) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        end_session(ctx.db, token)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    return user_out(user)
