"""Dashboard configuration: one pydantic tree, validated from TOML."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from dagritme.config import StrictModel
from dagritme.mqtt import BrokerSettings
from store.config import StoreSettings

PLACEHOLDER_SECRETS = frozenset({"changethis", "change-me", "changeme", "secret", "development"})
MIN_SECRET_LENGTH = 32
DEVELOPMENT_SECRET = "development-only-secret-do-not-use-in-production"


class HttpSettings(StrictModel):
    """Where the web server listens."""

    host: str = Field(default="127.0.0.1", description="Listen address.")
    port: int = Field(default=8000, ge=0, le=65535, description="Listen port (0: any free port).")


class NotificationSettings(StrictModel):
    """How notifications are sent."""

    enabled: bool = Field(default=True, description="Send notifications for new alerts.")
    attempts: int = Field(default=3, ge=1, le=10, description="Tries per notification.")
    retry_delay_s: float = Field(
        default=2.0, ge=0, le=600, description="Wait before the first retry; doubles each time."
    )
    escalate_after_minutes: float = Field(
        default=15.0,
        gt=0,
        le=24 * 60,
        description="Notify the next contacts in the chain when nobody acknowledged by then.",
    )
    escalation_check_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="How often the escalation chain and the daily summaries are checked.",
    )
    daily_summary_hour: int | None = Field(
        default=20,
        ge=0,
        le=23,
        description="Local hour after which the calm 'all is well' summary goes to contacts "
        "with the summary scope; unset: no summaries.",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public address of the dashboard, used for links in notifications.",
    )


class FreshnessSettings(StrictModel):
    """When a household whose data stops arriving shows 'no data since ...' instead of green."""

    enabled: bool = Field(default=True, description="Check that data keeps arriving.")
    event_hours: float = Field(
        default=12.0,
        gt=0,
        le=24 * 30,
        description="No sensor event for this long (data time) means the data has stopped; "
        "someone at home moves past a sensor well within it, even on a quiet night.",
    )
    heartbeat_minutes: float | None = Field(
        default=10.0,
        gt=0,
        le=24 * 60,
        description="No gateway heartbeat for this long means the data has stopped "
        "(the gateway sends one a minute); unset: heartbeats are not checked.",
    )
    missed_heartbeats: float = Field(
        default=3.0,
        ge=1,
        le=100,
        description="Never flag before this many of the gateway's own heartbeat intervals "
        "have passed without one (gateways with a slow heartbeat, accelerated clocks).",
    )
    flush_s: float = Field(
        default=1.0, gt=0, le=300, description="How often seen times are written to SQLite."
    )


class DashboardConfig(StrictModel):
    """Configuration of `dagritme dashboard`."""

    environment: Literal["production", "development"] = Field(
        default="production",
        description="'development' allows the built-in weak secret and plain-HTTP cookies.",
    )
    broker: BrokerSettings = Field(
        default_factory=BrokerSettings, description="Central MQTT broker (alerts in, feedback out)."
    )
    database: Path = Field(
        default=Path("dashboard.sqlite3"),
        description="SQLite file with accounts, households, consents, access log and alerts.",
    )
    http: HttpSettings = Field(default_factory=HttpSettings, description="Web server.")
    secret_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_SECRET),
        description=f"Signs session cookies; at least {MIN_SECRET_LENGTH} characters.",
    )
    cookie_secure: bool | None = Field(
        default=None,
        description="Send the session cookie over HTTPS only; unset: yes, except in development.",
    )
    session_hours: float = Field(
        default=12.0, gt=0, le=24 * 30, description="How long a login stays valid."
    )
    default_language: Literal["en", "nl"] = Field(
        default="en", description="Language for users who have not chosen one."
    )
    login_attempts: int = Field(
        default=5, ge=1, le=100, description="Failed logins allowed per user and address."
    )
    login_window_s: float = Field(
        default=300.0, gt=0, description="Window in which failed logins are counted."
    )
    learning_days: int = Field(
        default=7,
        ge=1,
        le=90,
        description=(
            "Learning period of the fallback estimate, shown (labelled as an estimate) only "
            "until the detector's own status arrives; keep it equal to the detector's "
            "learning_days."
        ),
    )
    consent_text_version: str = Field(
        default="2026-01", description="Version of the consent text that people agree to."
    )
    notifications: NotificationSettings = Field(
        default_factory=NotificationSettings, description="Notification delivery."
    )
    freshness: FreshnessSettings = Field(
        default_factory=FreshnessSettings, description="Flagging households whose data stops."
    )
    store: StoreSettings = Field(
        default_factory=StoreSettings,
        description="Event history (read-only here): the same section as `dagritme store`.",
    )

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.environment != "development"

    @model_validator(mode="after")
    def _no_placeholder_secret_outside_development(self) -> DashboardConfig:
        if self.environment == "development":
            return self
        secret = self.secret_key.get_secret_value()
        if secret == DEVELOPMENT_SECRET or secret.lower() in PLACEHOLDER_SECRETS:
            raise ValueError("secret_key is a placeholder: set a random secret_key")
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"secret_key must have at least {MIN_SECRET_LENGTH} characters")
        return self
