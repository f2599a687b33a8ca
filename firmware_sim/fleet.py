"""Build many simulated homes at once: ids, personas, scenarios and device quirks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from firmware_sim.devices import AvailabilityStyle
from firmware_sim.home import Noise, SimulatedHome
from firmware_sim.personas import persona
from firmware_sim.scenarios import (
    Effect,
    ScenarioError,
    ScenarioRequest,
    next_dst_change,
    parse_scenario,
    resolve,
)


def household_id(prefix: str, index: int) -> str:
    return f"{prefix}-{index + 1:05d}"


def make_homes(
    count: int,
    *,
    first_day: date,
    days: float,
    seed: int = 1,
    personas: Sequence[str] = ("typical",),
    scenarios: Sequence[str | ScenarioRequest] = (),
    tz: ZoneInfo | None = None,
    prefix: str = "sim",
    availability: AvailabilityStyle | None = None,
    availability_timeout_s: float = 1500 * 60.0,
    noise: Noise | None = None,
    last_seen: bool = False,
) -> list[SimulatedHome]:
    """`count` homes; each gets the next persona in turn and every requested scenario.

    Each home's own seed derives from `seed` and its index, so adding homes keeps the
    existing ones as they were.
    """
    zone = tz or ZoneInfo("Europe/Amsterdam")
    requests = [parse_scenario(s) if isinstance(s, str) else s for s in scenarios]
    whole_days = max(1, math.ceil(days))
    homes: list[SimulatedHome] = []
    for index in range(count):
        home = SimulatedHome(
            household=household_id(prefix, index),
            persona=persona(personas[index % len(personas)]),
            seed=seed * 100_003 + index,
            tz=zone,
            noise=noise or Noise(),
            availability=availability
            or (AvailabilityStyle.JSON if index % 2 == 0 else AvailabilityStyle.PLAIN),
            availability_timeout_s=availability_timeout_s,
            include_last_seen=last_seen,
        )
        for request in requests:
            sensor = None
            if request.kind.effect in (Effect.BATTERY, Effect.DEVICE_OFFLINE):
                sensor = home.default_device_for_scenarios()
            home.injections.append(
                resolve(request, home.household, first_day, whole_days, zone, sensor)
            )
        homes.append(home)
    return homes


def first_day_for(
    requests: Sequence[str | ScenarioRequest], default: date, days: float, tz: ZoneInfo
) -> date:
    """The start day: moved so that a requested daylight-saving change falls on its DAY."""
    for item in requests:
        request = parse_scenario(item) if isinstance(item, str) else item
        if request.kind.effect is Effect.NONE:
            change = next_dst_change(default, tz)
            if change is None:
                raise ScenarioError(f"{tz.key} has no daylight-saving change")
            fallback = max(0, math.ceil(days) - request.kind.default_day_from_end)
            index = request.day if request.day is not None else fallback
            return change - timedelta(days=index)
    return default
