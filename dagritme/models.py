"""The typed contract between the parts: every MQTT payload is defined here, once.

Field names and vocabularies follow the design contract (DESIGN.md). All timestamps are
timezone-aware and normalised to UTC; the rhythm is computed in the home's own time zone
by the detector, never here.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = 1

# Pseudonymous ids only: lower-case letters, digits, '-' and '_'. They appear in MQTT topics,
# InfluxDB tags and logs, so they must never carry a name or an address; the strict pattern
# also keeps MQTT wildcards ('+', '#') and separators ('/') out of topics.
ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
SENSOR_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

HouseholdId = Annotated[str, Field(pattern=ID_PATTERN, description="Pseudonymous household id.")]
SensorId = Annotated[
    str, Field(pattern=SENSOR_PATTERN, description="Sensor id from the device map.")
]


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]


class Kind(StrEnum):
    """What a sensor measures."""

    MOTION = "motion"
    DOOR = "door"
    CONTACT = "contact"


class Room(StrEnum):
    """The rooms of a home, as the detector reasons about them."""

    BEDROOM = "bedroom"
    BATHROOM = "bathroom"
    TOILET = "toilet"
    KITCHEN = "kitchen"
    LIVING = "living"
    HALL = "hall"
    ENTRANCE = "entrance"
    OTHER = "other"


class Value(StrEnum):
    """A sensor state: on/off for motion and contact, open/closed for doors."""

    ON = "on"
    OFF = "off"
    OPEN = "open"
    CLOSED = "closed"


VALUES_BY_KIND: dict[Kind, frozenset[Value]] = {
    Kind.MOTION: frozenset({Value.ON, Value.OFF}),
    Kind.CONTACT: frozenset({Value.ON, Value.OFF}),
    Kind.DOOR: frozenset({Value.OPEN, Value.CLOSED}),
}

ACTIVE_VALUES = frozenset({Value.ON, Value.OPEN})


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def make_event_id(household: str, sensor: str, ts: datetime, value: str) -> str:
    """A dedupe key that is the same however often the gateway retries the same change."""
    raw = f"{household}|{sensor}|{ts.astimezone(UTC).isoformat()}|{value}"
    return hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()


class Event(_Payload):
    """A canonical sensor event: one state *change* of one sensor (gateway -> central)."""

    schema_version: Literal[1] = Field(default=1, description="Contract version of this payload.")
    event_id: str = Field(
        min_length=8, max_length=64, description="Unique, stable across retries: the dedupe key."
    )
    household: HouseholdId
    sensor: SensorId
    kind: Kind = Field(description="motion, door or contact.")
    room: Room = Field(description="Room the sensor is in.")
    value: Value = Field(description="on/off for motion and contact, open/closed for door.")
    ts: UtcDatetime = Field(description="When the sensor changed state, UTC.")
    seq: int = Field(ge=0, description="Per-gateway counter.")

    @model_validator(mode="after")
    def _value_fits_kind(self) -> Event:
        if self.value not in VALUES_BY_KIND[self.kind]:
            allowed = "/".join(sorted(VALUES_BY_KIND[self.kind]))
            raise ValueError(f"value {self.value!s} does not fit kind {self.kind!s} ({allowed})")
        return self

    @property
    def active(self) -> bool:
        """True when the change shows presence: motion on, contact on, door opened."""
        return self.value in ACTIVE_VALUES

    @property
    def is_exterior_door(self) -> bool:
        return self.kind is Kind.DOOR and self.room is Room.ENTRANCE


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    URGENT = "urgent"


class AlertType(StrEnum):
    INACTIVITY = "inactivity"
    NOT_UP = "not_up"
    NIGHT_DOOR = "night_door"
    NOT_RETURNED = "not_returned"
    BATHROOM_LONG = "bathroom_long"
    NIGHT_RESTLESS = "night_restless"
    TREND = "trend"
    SENSOR_OFFLINE = "sensor_offline"
    GATEWAY_OFFLINE = "gateway_offline"
    BATTERY_LOW = "battery_low"


TECHNICAL_ALERTS = frozenset(
    {AlertType.SENSOR_OFFLINE, AlertType.GATEWAY_OFFLINE, AlertType.BATTERY_LOW}
)


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Resolution(StrEnum):
    TRUE_ALARM = "true_alarm"
    FALSE_ALARM = "false_alarm"
    RESIDENT_OK = "resident_ok"
    AUTO = "auto"  # activity resumed, resolved by the detector


class Evidence(_Payload):
    """Why an alert was raised: the norm it compares against and what was seen."""

    sensors: list[str] = Field(default_factory=list, description="Sensors involved.")
    rooms: list[Room] = Field(default_factory=list, description="Rooms involved.")
    usual: str | None = Field(default=None, description="What is usual, in plain words.")
    observed: str | None = Field(default=None, description="What happened, in plain words.")
    figures: dict[str, float] = Field(
        default_factory=dict, description="Numbers behind the norm (minutes, counts, quantiles)."
    )
    last_activity: UtcDatetime | None = Field(default=None, description="Last presence seen.")


class Alert(_Payload):
    """Detector output on `dagritme/v1/<household>/alerts`.

    The detector publishes an alert when it opens and again (same `alert_id`) when it
    auto-resolves; people acknowledge and resolve it in the dashboard.
    """

    schema_version: Literal[1] = 1
    alert_id: str = Field(min_length=8, max_length=64, description="Stable id of this alert.")
    ts: UtcDatetime = Field(description="When the alert was raised (data time in replay).")
    household: HouseholdId
    type: AlertType
    subtype: str | None = Field(default=None, description="For `trend`: night_toilet, ...")
    severity: Severity
    message: str = Field(min_length=1, max_length=1000, description="Plain-language explanation.")
    evidence: Evidence = Field(default_factory=Evidence)
    status: AlertStatus = AlertStatus.OPEN
    resolved_ts: UtcDatetime | None = None
    resolution: Resolution | None = None


class Availability(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class DeviceHealth(_Payload):
    """Per-device health on `dagritme/v1/<household>/devices/<sensor>/health`."""

    schema_version: Literal[1] = 1
    household: HouseholdId
    sensor: SensorId
    ts: UtcDatetime
    availability: Availability = Availability.ONLINE
    battery: float | None = Field(default=None, ge=0, le=100, description="Percent.")
    linkquality: int | None = Field(default=None, ge=0, le=255)
    last_seen: UtcDatetime | None = None


class GatewayHeartbeat(_Payload):
    """Periodic gateway heartbeat (the retained status itself is the plain word online/offline)."""

    schema_version: Literal[1] = 1
    household: HouseholdId
    ts: UtcDatetime
    seq: int = Field(ge=0)
    queued: int = Field(ge=0, description="Events waiting in the store-and-forward queue.")
    clock_skew_s: float | None = None
    counters: dict[str, int] = Field(default_factory=dict)


class Feedback(_Payload):
    """A person's verdict on an alert, fed back to the detector (dashboard -> detector)."""

    schema_version: Literal[1] = 1
    household: HouseholdId
    alert_id: str
    type: AlertType
    resolution: Resolution
    ts: UtcDatetime


class DetectorStatus(_Payload):
    """The detector's learning progress, retained on `dagritme/v1/<household>/detector/status`.

    About the model, not the home's raw data: day counts and the plain-language "usual"
    statements the detector's messages use, so it may leave the home in edge mode too.
    """

    schema_version: Literal[1] = Field(default=1, description="Contract version of this payload.")
    household: HouseholdId
    ts: UtcDatetime = Field(description="When the detector made this status (data time).")
    learning_days_seen: int = Field(
        ge=0, description="Lived-in days learned so far, counted up to `learning_days_needed`."
    )
    learning_days_needed: int = Field(ge=1, description="Length of the learning period, in days.")
    progress: float = Field(ge=0, le=1, description="0..1: how far the learning period is.")
    learned: bool = Field(description="Learned norms are in use (else the safe defaults).")
    usual: list[Annotated[str, Field(min_length=1, max_length=300)]] = Field(
        default_factory=list,
        max_length=12,
        description="What the detector holds usual, in the words of its alerts; empty while "
        "learning.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> DetectorStatus:
        if self.learning_days_seen > self.learning_days_needed:
            raise ValueError("learning_days_seen is counted up to learning_days_needed")
        if self.learned != (self.learning_days_seen >= self.learning_days_needed):
            raise ValueError("learned must mean that all learning days are seen")
        if self.usual and not self.learned:
            raise ValueError("usual statements are only sent once learned")
        return self


def utcnow() -> datetime:
    return datetime.now(UTC)


def payload_json(model: BaseModel) -> bytes:
    """Serialise a contract model for the wire."""
    return model.model_dump_json(exclude_none=True).encode()


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=True)
