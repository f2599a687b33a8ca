"""Detector configuration: a tree of strict pydantic models, loaded from TOML.

Example::

    default_timezone = "Europe/Amsterdam"
    tick_interval_s = 60
    state_dir = "/var/lib/dagritme/detector"

    [broker]
    url = "mqtt://127.0.0.1:1883"

    [timezones]
    hh-0001 = "Europe/Brussels"

    [thresholds]
    learning_days = 7
    inactivity_min_minutes = 60
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from dagritme.config import StrictModel
from dagritme.mqtt import BrokerSettings


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"unknown time zone {name!r}") from err
    return name


class Thresholds(StrictModel):
    """Safe defaults and bounds; learned norms are always kept inside these bounds."""

    learning_days: int = Field(
        default=7, ge=1, le=60, description="Days of data before learned norms replace defaults."
    )
    decay_per_day: float = Field(
        default=0.97, gt=0.5, le=1.0, description="Daily forgetting factor of learned counts."
    )
    inactivity_default_day_minutes: float = Field(
        default=360, gt=0, description="Cold-start silence limit in the daytime (06:00-20:00)."
    )
    inactivity_default_night_minutes: float = Field(
        default=720, gt=0, description="Cold-start silence limit at night."
    )
    inactivity_min_minutes: float = Field(
        default=60, gt=0, description="A learned silence limit is never shorter than this."
    )
    inactivity_sleep_min_minutes: float = Field(
        default=480,
        gt=0,
        description="Floor for silences after the bedroom 20:00-08:00 (sleep; not_up covers it).",
    )
    inactivity_max_minutes: float = Field(
        default=720, gt=0, description="A learned silence limit is never longer than this."
    )
    inactivity_rate_per_day: float = Field(
        default=1 / 30,
        gt=0,
        le=1,
        description="A silence is unusual when one this long starts in its context less often.",
    )
    inactivity_margin: float = Field(
        default=1.0, ge=1.0, le=4.0, description="Factor on the learned silence limit."
    )
    not_up_default_minute: int = Field(
        default=660, ge=300, le=900, description="Cold start: not up by this minute of the day."
    )
    not_up_earliest_minute: int = Field(
        default=420, ge=240, le=900, description="A learned rising limit is never before this."
    )
    not_up_latest_minute: int = Field(
        default=720, ge=300, le=1080, description="A learned rising limit is never after this."
    )
    not_up_margin_minutes: int = Field(
        default=60, ge=0, le=240, description="Minutes added to the usual (p90) rising time."
    )
    not_up_cold_start_min_risings: int = Field(
        default=2,
        ge=1,
        le=30,
        description="Cold start: risings seen before they start to pull the limit earlier.",
    )
    not_up_cold_start_cap_minute: int = Field(
        default=600,
        ge=240,
        le=900,
        description=(
            "Cold start, once risings count: the limit is never later than this (the usual "
            "fixed rule, 10:00) or the learned-so-far limit, whichever is later."
        ),
    )
    not_up_cold_start_prior_days: float = Field(
        default=2.0,
        ge=0.0,
        le=30.0,
        description=(
            "Cold start: weight of the default limit, in days; n risings seen move the limit "
            "n / (n + this) of the way from the default to the learned-so-far limit."
        ),
    )
    night_start_minute: int = Field(
        default=0, ge=0, lt=1440, description="Start of the night window (minute of the day)."
    )
    night_end_minute: int = Field(
        default=360, ge=0, lt=1440, description="End of the night window (minute of the day)."
    )
    night_door_rate_per_day: float = Field(
        default=1 / 14, gt=0, le=1, description="Door at an hour this rarely used is unusual."
    )
    away_door_window_minutes: float = Field(
        default=10, gt=0, description="Silence after the front door within this means out."
    )
    not_returned_default_minutes: float = Field(
        default=720, gt=0, description="Cold start: out longer than this is unusual."
    )
    not_returned_rate_per_outing: float = Field(
        default=0.005,
        gt=0,
        lt=0.5,
        description="A learned not-returned limit is passed by at most this share of outings.",
    )
    not_returned_min_minutes: float = Field(
        default=240, gt=0, description="A learned not-returned limit is never shorter."
    )
    not_returned_max_minutes: float = Field(
        default=1440, gt=0, description="A learned not-returned limit is never longer."
    )
    bathroom_min_minutes: float = Field(
        default=60, gt=0, description="A learned bathroom-stay limit is never shorter."
    )
    bathroom_max_minutes: float = Field(
        default=180, gt=0, description="A learned bathroom-stay limit is never longer."
    )
    restless_min_minutes: int = Field(
        default=45, ge=1, description="Active minutes outside the bedroom at night never normal."
    )
    gateway_grace_minutes: float = Field(
        default=5, ge=0, description="Gateway offline this long before an alert."
    )
    battery_low_percent: float = Field(
        default=15, ge=0, le=100, description="Battery at or below this raises battery_low."
    )
    battery_ok_percent: float = Field(
        default=25, ge=0, le=100, description="Battery at or above this resolves battery_low."
    )
    feedback_step: float = Field(
        default=1.25, ge=1.0, le=3.0, description="False alarm: limit times this; true: divided."
    )
    feedback_max_factor: float = Field(
        default=3.0, ge=1.0, le=10.0, description="Bound on how far feedback moves a limit."
    )
    entrance_motion_means_away: bool = Field(
        default=True,
        description="Homes without an exterior door sensor: silence after entrance motion is out.",
    )


class DetectorConfig(StrictModel):
    """`dagritme detector` configuration."""

    broker: BrokerSettings = Field(
        default_factory=BrokerSettings, description="Central MQTT broker."
    )
    default_timezone: str = Field(
        default="Europe/Amsterdam", description="Time zone of homes not listed in `timezones`."
    )
    timezones: dict[str, str] = Field(
        default_factory=dict, description="Per-household time zone (household id -> IANA name)."
    )
    tick_interval_s: float = Field(
        default=60, gt=0, le=3600, description="Real seconds between time-based checks."
    )
    max_clock_ahead_s: float = Field(
        default=600,
        gt=0,
        description="Events stamped this far ahead of the detector's clock are refused as "
        "gateway clock skew; scale with the speed of an accelerated clock.",
    )
    checkpoint_interval_s: float = Field(
        default=15,
        gt=0,
        description="Real seconds between checkpoints (only households changed since the last).",
    )
    state_dir: Path | None = Field(
        default=None, description="Where household state is checkpointed; none keeps it in memory."
    )
    thresholds: Thresholds = Field(
        default_factory=Thresholds, description="Safe defaults and bounds of every rule."
    )

    @field_validator("default_timezone")
    @classmethod
    def _known_default_timezone(cls, name: str) -> str:
        return _check_timezone(name)

    @field_validator("timezones")
    @classmethod
    def _known_timezones(cls, zones: dict[str, str]) -> dict[str, str]:
        for zone in zones.values():
            _check_timezone(zone)
        return zones

    def timezone_for(self, household: str) -> ZoneInfo:
        return ZoneInfo(self.timezones.get(household, self.default_timezone))
