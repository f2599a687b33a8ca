"""Typed runtime data of the app: everything the routes need, built once in create_app."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from itsdangerous import URLSafeTimedSerializer

from dagritme.clock import Clock
from dashboard.accounts import LoginRateLimiter
from dashboard.config import DashboardConfig
from dashboard.db import Database
from dashboard.publisher import FeedbackPublisher
from store.base import EventStore

SESSION_COOKIE = "dagritme_session"
LOGIN_TOKEN_MAX_AGE_S = 3600


@dataclass
class AppContext:
    config: DashboardConfig
    db: Database
    event_store: EventStore
    clock: Clock
    publisher: FeedbackPublisher | None
    limiter: LoginRateLimiter = field(init=False)
    signer: URLSafeTimedSerializer = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = LoginRateLimiter(
            self.config.login_attempts, timedelta(seconds=self.config.login_window_s)
        )
        self.signer = URLSafeTimedSerializer(
            self.config.secret_key.get_secret_value(), salt="dagritme-login-form"
        )

    @property
    def session_lifetime(self) -> timedelta:
        return timedelta(hours=self.config.session_hours)
