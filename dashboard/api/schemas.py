"""Request and response bodies of the JSON API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dagritme.models import AlertStatus, AlertType, Evidence, Resolution, Room, Severity
from dashboard.accounts import Role
from dashboard.consent import ConsentAction, Scope
from dashboard.status import LearningSource, Light


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(_Body):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class UserOut(_Body):
    id: int
    username: str
    display_name: str
    role: Role
    language: str | None
    household: str | None


class LoginResponse(_Body):
    user: UserOut
    csrf_token: str = Field(description="Send as X-CSRF-Token on non-JSON unsafe requests.")


class HouseholdSummaryOut(_Body):
    id: str
    display_name: str
    tz: str
    scopes: list[Scope] = Field(description="What the caller may see of this household.")
    status: Light | None = Field(description="Traffic light; null without consent.")
    open_alerts: int | None
    latest_alert: datetime | None
    gateway: str | None
    paused_until: datetime | None
    no_data: bool = Field(
        default=False, description="Data stopped arriving (status no_data, unless worse)."
    )
    no_data_since: datetime | None = Field(
        default=None, description="Newest data seen when it stopped; null: none ever came."
    )


class RoomActivityOut(_Body):
    room: Room
    sensor: str
    ts: datetime
    value: str


class LearningOut(_Body):
    source: LearningSource = Field(
        description="detector: the detector's own count of lived-in days it learned from; "
        "estimate: days with data in the event store, until the detector has reported."
    )
    days_seen: int = Field(ge=0, description="Days learned so far, counted up to days_needed.")
    days_needed: int = Field(ge=1, description="Length of the learning period, in days.")
    fraction: float = Field(ge=0, le=1, description="days_seen / days_needed.")
    learned: bool = Field(description="Learned norms are in use (else safe defaults).")
    usual: list[str] = Field(
        default_factory=list,
        description="What the detector holds usual, in the words of its alerts (once learned).",
    )
    as_of: datetime | None = Field(
        default=None, description="When the detector made this status (source detector)."
    )
    days_with_data: int | None = Field(
        default=None, description="Days with data in the learning window (source estimate)."
    )


class DeviceOut(_Body):
    sensor: str
    ts: datetime
    availability: str
    battery: float | None
    linkquality: int | None


class HouseholdDetailOut(_Body):
    id: str
    display_name: str
    tz: str
    scopes: list[Scope]
    status: Light
    paused_until: datetime | None
    last_activity: datetime | None
    rooms: list[RoomActivityOut]
    learning: LearningOut
    gateway: str | None
    gateway_ts: datetime | None
    devices: list[DeviceOut]
    open_alerts: int | None
    no_data: bool = Field(
        default=False, description="Data stopped arriving (status no_data, unless worse)."
    )
    no_data_since: datetime | None = Field(
        default=None, description="Newest data seen when it stopped; null: none ever came."
    )


class AlertOut(_Body):
    alert_id: str
    household: str
    ts: datetime
    type: AlertType
    subtype: str | None
    severity: Severity
    message: str
    evidence: Evidence
    status: AlertStatus
    resolved_ts: datetime | None
    resolution: Resolution | None
    ack_by: str | None
    ack_note: str | None
    ack_ts: datetime | None
    resolved_by: str | None
    resolution_note: str | None


class AckRequest(_Body):
    note: str = Field(default="", max_length=1000, description="e.g. 'I called, she is fine'.")


class ResolveRequest(_Body):
    outcome: Literal["true_alarm", "false_alarm", "resident_ok"]
    note: str = Field(default="", max_length=1000)


class ConsentRequest(_Body):
    action: ConsentAction
    username: str | None = Field(default=None, description="The person a grant/revoke is for.")
    scope: Scope | None = Field(default=None, description="Scope; a revoke without one: all.")
    until: datetime | None = Field(default=None, description="End of a pause (aware time).")


class ConsentOut(_Body):
    id: int
    household: str
    action: ConsentAction
    username: str | None
    scope: Scope | None
    until: datetime | None
    text_version: str
    recorded_by: str
    ts: datetime


class ConsentStateOut(_Body):
    """Who may see what right now, plus the full append-only history."""

    paused_until: datetime | None
    current: dict[str, list[Scope]]
    records: list[ConsentOut]


class AccessEntryOut(_Body):
    ts: datetime
    username: str
    role: str
    action: str
    on_behalf_of: str


class ContactRequest(_Body):
    username: str = Field(description="Who is reached; needs the alerts scope to be notified.")
    apprise_url: str = Field(
        min_length=4, max_length=2000, description="mailto://, ntfy://, json://... (Apprise)."
    )
    position: int = Field(default=0, ge=0, le=100, description="Place in the escalation chain.")


class ContactPositionRequest(_Body):
    position: int = Field(ge=0, le=100, description="New place in the escalation chain.")


class ContactOut(_Body):
    id: int
    username: str
    target: str = Field(description="Scheme and host only; credentials are never shown.")
    position: int
    notified: bool = Field(description="Whether this contact currently holds the alerts scope.")


class NotificationOut(_Body):
    alert_id: str
    contact_id: int
    status: str
    attempts: int
    last_error: str | None
    updated: datetime


class HouseholdCreate(_Body):
    id: str = Field(description="Pseudonymous id: lower-case letters, digits, '-' and '_'.")
    display_name: str = Field(min_length=1, max_length=100)
    tz: str = Field(default="Europe/Amsterdam", description="IANA time zone of the home.")


class HouseholdOut(_Body):
    id: str
    display_name: str
    tz: str


class UserCreate(_Body):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")
    password: str = Field(min_length=10, max_length=200)
    role: Role
    display_name: str | None = Field(default=None, max_length=100)
    language: Literal["en", "nl"] | None = None
    household: str | None = Field(default=None, description="Required for residents.")


class InviteRequest(_Body):
    scopes: list[Scope] = Field(min_length=1, description="What the invited carer may see.")


class InviteOut(_Body):
    url: str = Field(description="Link for the invited person; valid for a week.")
    expires: datetime


class WeekTrendOut(_Body):
    week_start: date
    days_with_data: int
    rising_time: str | None = Field(
        description="Median rising time (the detector's rule), local HH:MM."
    )
    night_toilet_visits: float | None = Field(description="Mean per night (00:00-06:00).")
    kitchen_per_day: float | None
    events_per_day: float | None
