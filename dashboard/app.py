"""The composition root of the web app: everything is passed in, nothing happens at import."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from dagritme.clock import Clock
from dashboard.api.main import api_router
from dashboard.api.routes import health
from dashboard.config import DashboardConfig
from dashboard.context import AppContext
from dashboard.db import Database
from dashboard.deps import NotAuthenticated
from dashboard.publisher import FeedbackPublisher
from dashboard.web import actions, auth_pages, contact_pages, invite_pages, pages
from dashboard.web.render import STATIC_DIR
from store.base import EventStore

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
}


def create_app(
    config: DashboardConfig,
    *,
    db: Database,
    event_store: EventStore,
    clock: Clock,
    publisher: FeedbackPublisher | None = None,
) -> FastAPI:
    app = FastAPI(
        title="Dagritme dashboard",
        version="1",
        description="Consent-first dashboard for residents, carers and nurses.",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.ctx = AppContext(
        config=config, db=db, event_store=event_store, clock=clock, publisher=publisher
    )

    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "not authenticated"}, status_code=401)
        return RedirectResponse("/login", status_code=303)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: object) -> Response:
        response: Response = await call_next(request)  # type: ignore[operator]
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.include_router(health.router)
    app.include_router(api_router)
    app.include_router(auth_pages.router)
    app.include_router(pages.router)
    app.include_router(actions.router)
    app.include_router(invite_pages.router)
    app.include_router(contact_pages.router)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    return app
