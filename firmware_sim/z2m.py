"""Render what each device notices into the messages Zigbee2MQTT would publish.

For one device: hardware detections or contact changes, the occupancy timer and blind time,
periodic heartbeats that repeat the cached state, battery decline, link quality and
availability. The result is both the Z2M message stream and the ground-truth state changes
(what a perfect gateway turns into canonical events).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any
from zoneinfo import ZoneInfo

from firmware_sim.devices import (
    AvailabilityStyle,
    DeviceSpec,
    DeviceState,
    Sensing,
    availability_payload,
    state_payload,
)
from firmware_sim.routine import Stay, poisson
from firmware_sim.sensing import contact_changes, motion_detections, stable_rng, stable_unit

DAY_S = 86400.0
# Z2M's passive availability check for battery devices: offline after 25 h without a message.
DEFAULT_AVAILABILITY_TIMEOUT_S = 1500 * 60.0
# Device state before a window is rebuilt from this much earlier: longer than any stretch of
# uninterrupted occupancy, so the occupancy timer has settled.
WARMUP_S = 6 * 3600.0


# Share of full daylight by local hour: dark at night, brightest early afternoon.
_DAYLIGHT = [max(0.0, math.sin(math.pi * (h - 6) / 14)) if 6 <= h <= 20 else 0.0 for h in range(24)]


def _never(t: float) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class Z2MMessage:
    """One message as Z2M publishes it; `topic_suffix` is relative to the base topic."""

    ts: datetime
    topic_suffix: str
    payload: dict[str, Any] | str  # a plain string only for Z2M 1.x availability
    retain: bool = False


@dataclass(frozen=True, slots=True)
class StateChange:
    """A device's state changed: motion/contact on or off, a door opened or closed."""

    ts: float
    spec: DeviceSpec
    active: bool


@dataclass(frozen=True, slots=True)
class Outage:
    """The device says nothing from `start` to `end` (epoch seconds)."""

    start: float
    end: float


@dataclass(frozen=True, slots=True)
class DeviceConditions:
    """What scenarios do to one device."""

    outages: tuple[Outage, ...] = ()
    battery_drain: Outage | None = None  # drains to empty between start and end
    spurious_per_day: float = 0.0  # false triggers of a motion sensor (sun, heating, a pet)


class _Tick(IntEnum):
    # Order breaks ties at the same instant: state first, then reports about it.
    OFF = 0
    CLOSE = 1
    DETECT = 2
    OPEN = 3
    HEARTBEAT = 4
    AVAILABILITY_OFF = 5
    AVAILABILITY_ON = 6


@dataclass(slots=True)
class DeviceRenderer:
    """Turns one device's view of the stays into Z2M messages and state changes."""

    spec: DeviceSpec
    seed: int
    tz: ZoneInfo
    availability: AvailabilityStyle = AvailabilityStyle.JSON
    availability_timeout_s: float = DEFAULT_AVAILABILITY_TIMEOUT_S
    conditions: DeviceConditions = field(default_factory=DeviceConditions)

    _battery_offset_days: float = field(init=False)
    _base_linkquality: int = field(init=False)
    _outage_list: list[Outage] = field(init=False)
    _utc_offset_s: float = field(init=False, default=0.0)
    active_at_start: bool = field(init=False, default=False)  # set by `render`

    def __post_init__(self) -> None:
        life = self.spec.device_model.battery_days
        self._battery_offset_days = stable_unit(self.seed, self.spec.sensor, "battery") * life
        self._base_linkquality = 40 + int(stable_unit(self.seed, self.spec.sensor, "lq") * 170)
        self._outage_list = list(self.conditions.outages)
        if self.conditions.battery_drain is not None:
            self._outage_list.append(Outage(self.conditions.battery_drain.end, math.inf))

    def battery(self, t: float) -> float:
        """Slow decline over the model's battery life, replaced at 20 % (most homes do)."""
        level = self._battery_without_drain(t)
        drain = self.conditions.battery_drain
        if drain is not None and t >= drain.start:
            start_level = self._battery_without_drain(drain.start)
            left = max(0.0, 1.0 - (t - drain.start) / max(drain.end - drain.start, 1.0))
            level = start_level * left
        return level

    def _battery_without_drain(self, t: float) -> float:
        life = self.spec.device_model.battery_days
        return 100.0 - 80.0 * (((t / DAY_S + self._battery_offset_days) % life) / life)

    def _silent(self, t: float) -> bool:
        return any(o.start <= t < o.end for o in self._outage_list)

    def _raw_ticks(
        self, stays: Sequence[Stay], start: float, end: float
    ) -> list[tuple[float, _Tick]]:
        model = self.spec.device_model
        outages = self._outage_list
        silent = self._silent if outages else _never
        ticks: list[tuple[float, _Tick]] = []
        if model.sensing is Sensing.OCCUPANCY:
            last, occupied = -math.inf, False
            detections = motion_detections(self.spec, stays, self.seed)
            if self.conditions.spurious_per_day > 0:
                detections = sorted(detections + self._spurious(start, end))
            for t in detections:
                if silent(t):
                    continue
                if occupied and t >= last + model.occupancy_timeout_s:
                    ticks.append((last + model.occupancy_timeout_s, _Tick.OFF))
                    occupied = False
                if t < last + model.blind_s:
                    continue
                ticks.append((t, _Tick.DETECT))
                last, occupied = t, True
            if occupied:
                ticks.append((last + model.occupancy_timeout_s, _Tick.OFF))
        else:
            for t, opened in contact_changes(self.spec, stays, self.seed):
                if not silent(t):
                    ticks.append((t, _Tick.OPEN if opened else _Tick.CLOSE))
        period = model.heartbeat_s
        phase = stable_unit(self.seed, self.spec.sensor, "heartbeat") * period
        k = math.ceil((start - phase) / period)
        while (t := phase + k * period) < end:
            if not silent(t):
                ticks.append((t, _Tick.HEARTBEAT))
            k += 1
        for outage in outages:
            announced = outage.start + self.availability_timeout_s
            if announced < outage.end:
                ticks.append((announced, _Tick.AVAILABILITY_OFF))
                if not math.isinf(outage.end):
                    ticks.append((outage.end, _Tick.AVAILABILITY_ON))
        ticks.sort()
        # Millisecond times: what `last_seen` carries, so a gateway that stamps events with
        # it derives exactly these state changes (and the same event ids).
        return [(round(t, 3), tick) for t, tick in ticks]

    def _spurious(self, start: float, end: float) -> list[float]:
        """False triggers in [start, end), drawn per UTC day so any window agrees."""
        times: list[float] = []
        for day in range(int(start // DAY_S), int(end // DAY_S) + 1):
            rng = stable_rng(self.seed, self.spec.sensor, "spurious", day)
            for _ in range(poisson(rng, self.conditions.spurious_per_day)):
                t = day * DAY_S + rng.random() * DAY_S
                if start <= t < end:
                    times.append(t)
        return times

    def _state(self, t: float, active: bool) -> DeviceState:
        base_lq = self._base_linkquality
        jitter = zlib.crc32(f"{self.spec.sensor}|{int(t)}".encode()) % 31 - 15
        daylight = _DAYLIGHT[int((t + self._utc_offset_s) // 3600) % 24]
        return DeviceState(
            active=active,
            battery=self.battery(t),
            linkquality=min(255, max(0, base_lq + jitter)),
            illuminance=int(5 + 300 * daylight),
            temperature=19.5 + 2.0 * daylight,
        )

    def render(
        self,
        stays: Sequence[Stay],
        start: float,
        end: float,
        *,
        warmup_s: float = WARMUP_S,
        with_messages: bool = True,
    ) -> tuple[list[tuple[float, Z2MMessage]], list[StateChange]]:
        """Messages and state changes in [start, end); state is built up from `warmup_s` before.

        `with_messages=False` skips building payloads when only the state changes matter.
        """
        spec = self.spec
        # Only illuminance uses the local hour; an offset per window is close enough.
        offset = datetime.fromtimestamp(start, self.tz).utcoffset()
        self._utc_offset_s = offset.total_seconds() if offset else 0.0
        lo = start - warmup_s
        stays = [s for s in stays if s.end > lo and s.start < end]
        messages: list[tuple[float, Z2MMessage]] = []
        changes: list[StateChange] = []
        active = self.active_at_start = False
        availability_topic = f"{spec.friendly_name}/availability"
        for t, tick in self._raw_ticks(stays, lo, end):
            changed = False
            if tick in (_Tick.DETECT, _Tick.OPEN):
                changed, active = not active, True
            elif tick in (_Tick.OFF, _Tick.CLOSE):
                changed, active = active, False
            if t < start:
                self.active_at_start = active
                continue
            if t >= end:
                continue
            if changed:
                changes.append(StateChange(t, spec, active))
            if not with_messages:
                continue
            ts = datetime.fromtimestamp(t, UTC)
            if tick is _Tick.AVAILABILITY_OFF or tick is _Tick.AVAILABILITY_ON:
                online = tick is _Tick.AVAILABILITY_ON
                payload = availability_payload(self.availability, online)
                messages.append((t, Z2MMessage(ts, availability_topic, payload, retain=True)))
                continue
            body = state_payload(spec.device_model, self._state(t, active))
            messages.append((t, Z2MMessage(ts, spec.friendly_name, body)))
        return messages, changes


def message_state(message: Z2MMessage) -> bool | None:
    """The state a device message reports (occupancy, or door open), None for others."""
    payload = message.payload
    if not isinstance(payload, dict):
        return None
    if "occupancy" in payload:
        return bool(payload["occupancy"])
    if "contact" in payload:
        return not payload["contact"]
    return None


def changes_seen(
    spec: DeviceSpec, messages: Sequence[tuple[float, Z2MMessage]], active_at_start: bool
) -> list[StateChange]:
    """The changes a gateway sees in the messages that reached it (after an outage it learns
    the current state from the next message, whatever happened in between)."""
    changes: list[StateChange] = []
    known = active_at_start
    for t, message in messages:
        state = message_state(message)
        if state is not None and state != known:
            changes.append(StateChange(t, spec, state))
            known = state
    return changes


def startup_messages(
    specs: Sequence[DeviceSpec], ts: datetime, style: AvailabilityStyle
) -> Iterator[Z2MMessage]:
    """What Z2M publishes (retained) when it starts: the bridge and every device online."""
    yield Z2MMessage(ts, "bridge/state", availability_payload(style, True), retain=True)
    for spec in specs:
        payload = availability_payload(style, True)
        yield Z2MMessage(ts, f"{spec.friendly_name}/availability", payload, retain=True)
