"""Configuration of `dagritme simulate` (TOML; command-line flags override it)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from dagritme.config import StrictModel
from dagritme.mqtt import BrokerSettings
from firmware_sim.devices import AvailabilityStyle
from firmware_sim.personas import PERSONAS
from firmware_sim.scenarios import ScenarioError, parse_scenario


class NoiseConfig(StrictModel):
    duplicate_p: float = Field(default=0.0, ge=0, le=0.5, description="Share duplicated.")
    reorder_p: float = Field(default=0.0, ge=0, le=0.5, description="Share swapped with the next.")
    drop_p: float = Field(default=0.0, ge=0, le=0.5, description="Share lost on the radio.")
    spurious_per_day: float = Field(
        default=0.0, ge=0, le=50, description="False triggers per motion sensor and day."
    )


class SimulateConfig(StrictModel):
    """Simulated homes: how many, who lives there, what happens, and where it goes."""

    households: int = Field(default=1, ge=1, le=100_000, description="Number of homes.")
    household_prefix: str = Field(
        default="sim", pattern=r"^[a-z0-9][a-z0-9-]{0,20}$", description="Ids are PREFIX-00001."
    )
    personas: list[str] = Field(
        default_factory=lambda: ["typical", "early_riser", "night_owl", "sparse", "dense"],
        min_length=1,
        description="Personas given to the homes in turn.",
    )
    days: float = Field(default=14, gt=0, le=3660, description="Simulated days.")
    start: date | None = Field(
        default=None, description="First local day (datasets: 2026-01-05; MQTT: today)."
    )
    timezone: str = Field(default="Europe/Amsterdam", description="IANA zone of the homes.")
    seed: int = Field(default=1, description="Same seed, same homes, same days.")
    scenarios: list[str] = Field(
        default_factory=list, description="NAME[@DAY[THH:MM]], applied to every home."
    )
    speed: float = Field(default=60.0, gt=0, description="MQTT: simulated seconds per second.")
    base_topic: str = Field(
        default="zigbee2mqtt",
        description="Z2M base topic; '{household}' is replaced (default z2m-{household} if >1).",
    )
    availability: AvailabilityStyle | None = Field(
        default=None, description="plain (Z2M 1.x) or json (2.x); unset alternates per home."
    )
    last_seen: bool = Field(default=True, description="Add last_seen (ISO 8601) to payloads.")
    availability_timeout_min: float = Field(
        default=1500, gt=0, description="Minutes of silence before Z2M marks a device offline."
    )
    noise: NoiseConfig = Field(default_factory=NoiseConfig, description="Radio imperfections.")
    mqtt: BrokerSettings | None = Field(default=None, description="Publish here.")
    out: Path | None = Field(default=None, description="Write datasets here.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown IANA time zone {name!r}") from err
        return name

    @field_validator("personas")
    @classmethod
    def _known_personas(cls, names: list[str]) -> list[str]:
        unknown = [n for n in names if n not in PERSONAS]
        if unknown:
            raise ValueError(f"unknown persona(s) {unknown} (known: {sorted(PERSONAS)})")
        return names

    @field_validator("scenarios")
    @classmethod
    def _known_scenarios(cls, texts: list[str]) -> list[str]:
        for text in texts:
            try:
                parse_scenario(text)
            except ScenarioError as err:
                raise ValueError(str(err)) from err
        return texts
