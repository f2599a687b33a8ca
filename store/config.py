"""Configuration of the event store: which backend, how to reach it, the consumer service.

`StoreSettings` is the part other services embed (the dashboard reads history through
`store.open_store(settings)`); `StoreConfig` is the whole `dagritme store` service config.

Example (`dagritme store --config store.toml`)::

    [broker]
    url = "mqtt://127.0.0.1:1883"
    client_id = "dagritme-store"

    [store]
    backend = "influx"          # or "sqlite" (embedded default)
    retention_days = 730

    [store.influx]
    url = "http://127.0.0.1:8086"
    database = "dagritme"
    token = "..."               # InfluxDB 2.x/3.x; or username/password for 1.x

    [consumer]
    batch_size = 1000
    flush_interval_s = 0.5
    max_unacked = 4000          # backpressure window (MQTT v5 Receive Maximum)
    mqtt_protocol = "auto"      # "5", "3.1.1" or "auto"
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from dagritme.config import StrictModel
from dagritme.mqtt import BrokerSettings

DEFAULT_CLIENT_ID = "dagritme-store"


class SqliteSettings(StrictModel):
    """The embedded SQLite backend."""

    path: Path = Field(
        default=Path("var/events.sqlite"), description="SQLite file (WAL mode); ':memory:' too."
    )


class InfluxSettings(StrictModel):
    """InfluxDB over the v1 HTTP API (1.x natively, 2.x/3.x via their v1 compatibility API)."""

    url: str = Field(default="http://127.0.0.1:8086", description="Base URL, http(s)://host:port")
    database: str = Field(
        default="dagritme", min_length=1, description="Database (2.x: bucket mapped by DBRP)."
    )
    token: SecretStr | None = Field(
        default=None, description="API token, sent as 'Authorization: Token ...' (2.x/3.x)."
    )
    username: str | None = Field(default=None, description="1.x user (basic auth).")
    password: SecretStr | None = Field(default=None, description="1.x password.")
    retention_policy: str | None = Field(
        default=None, description="Retention policy to write to and read from; default if unset."
    )
    org: str | None = Field(
        default=None,
        description="2.x organisation: erasure and retention then fall back to /api/v2/delete, "
        "since the 2.x v1 API answers only read queries.",
    )
    bucket: str | None = Field(
        default=None, description="2.x bucket for /api/v2/delete; 'database/policy' if unset."
    )
    create_database: bool = Field(
        default=False, description="Create the database at start-up (needs admin rights)."
    )
    timeout_s: float = Field(default=10.0, gt=0, le=300, description="HTTP timeout per request.")
    batch_size: int = Field(
        default=20_000,
        ge=1,
        le=100_000,
        description="Most points per /write request (~4 MB at 20,000; InfluxDB's default "
        "max-body-size is 25 MB). Larger requests cost InfluxDB less per point.",
    )
    gzip: bool = Field(
        default=False,
        description="Compress /write bodies (Content-Encoding: gzip, ~6x smaller). Worth it "
        "over a slow link; on loopback or a LAN it costs more CPU than it saves.",
    )
    buffer_max_points: int = Field(
        default=200_000,
        ge=1000,
        description="Points kept in memory while InfluxDB is unreachable; beyond, writes refuse.",
    )
    retry_attempts: int = Field(
        default=3, ge=1, le=20, description="Attempts per write before buffering for later."
    )
    retry_backoff_s: float = Field(
        default=0.2, gt=0, le=60, description="First wait between attempts; doubles each time."
    )
    retry_backoff_max_s: float = Field(
        default=30.0, gt=0, le=3600, description="Longest wait between flush attempts."
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("must look like http://host:port or https://host:port")
        return url.rstrip("/")

    @model_validator(mode="after")
    def _one_auth(self) -> InfluxSettings:
        if self.token is not None and self.username is not None:
            raise ValueError("give either token or username/password, not both")
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        return self


class StoreSettings(StrictModel):
    """Which backend holds the event history."""

    backend: Literal["sqlite", "influx"] = Field(
        default="sqlite", description="'sqlite' (embedded) or 'influx' (deployments)."
    )
    sqlite: SqliteSettings = Field(default_factory=SqliteSettings, description="SQLite backend.")
    influx: InfluxSettings = Field(default_factory=InfluxSettings, description="Influx backend.")
    retention_days: int | None = Field(
        default=None, ge=1, description="Delete events older than this many days; keep if unset."
    )


class ConsumerSettings(StrictModel):
    """How the service persists events from the broker."""

    batch_size: int = Field(default=1000, ge=1, le=65_535, description="Flush at this size.")
    flush_interval_s: float = Field(
        default=0.5, gt=0, le=60, description="Flush a partial batch after this long."
    )
    max_unacked: int = Field(
        default=4000,
        ge=1,
        le=65_535,
        description="Events received but not yet stored and acknowledged; at this many the "
        "consumer stops reading (and asks the broker, as MQTT v5 Receive Maximum, to stop "
        "sending), so a store outage cannot grow memory. At least batch_size.",
    )
    mqtt_protocol: Literal["auto", "5", "3.1.1"] = Field(
        default="auto",
        description="'auto': MQTT v5, or 3.1.1 when the broker does not speak v5 "
        "(3.1.1 has no Receive Maximum: then the broker's max_inflight_messages bounds memory).",
    )
    session_expiry_s: int | None = Field(
        default=None,
        ge=60,
        lt=0xFFFFFFFF,
        description="MQTT v5 session expiry: how long the broker keeps undelivered events "
        "while the service is down; never expires if unset.",
    )
    shutdown_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="On stop, how long to try storing held events; the broker redelivers "
        "what is not stored by then.",
    )
    retention_interval_s: float = Field(
        default=3600.0, gt=0, description="How often retention runs (when retention_days is set)."
    )

    @model_validator(mode="after")
    def _window_holds_a_batch(self) -> ConsumerSettings:
        if self.max_unacked < self.batch_size:
            raise ValueError("max_unacked must be at least batch_size")
        return self


class StoreConfig(StrictModel):
    """The `dagritme store` service."""

    broker: BrokerSettings = Field(
        default_factory=lambda: BrokerSettings(client_id=DEFAULT_CLIENT_ID),
        description="Central broker; client_id keys the persistent session.",
    )
    store: StoreSettings = Field(default_factory=StoreSettings, description="Event history.")
    consumer: ConsumerSettings = Field(
        default_factory=ConsumerSettings, description="Batching and retention of the consumer."
    )
