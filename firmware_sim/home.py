"""A simulated home: one resident's routine seen through the home's Zigbee devices.

`SimulatedHome` is the public face of the simulator: its `devices` become a gateway device
map, `messages(start, end)` yields the Zigbee2MQTT messages in time order, `events(start, end)`
the canonical events a perfect gateway would derive from them, and `injections` the ground
truth of the scenarios placed in it.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dagritme.dataset import SensorInfo
from dagritme.models import Event, Kind, Room, Value, make_event_id
from firmware_sim.devices import AvailabilityStyle, DeviceSpec, availability_payload
from firmware_sim.personas import Persona
from firmware_sim.routine import DayModifiers, Stay, build_day
from firmware_sim.scenarios import SCENARIOS, Effect, Injection
from firmware_sim.sensing import stable_unit
from firmware_sim.timeline import apply_timeline_scenarios, day_modifiers
from firmware_sim.z2m import (
    DEFAULT_AVAILABILITY_TIMEOUT_S,
    WARMUP_S,
    DeviceConditions,
    DeviceRenderer,
    Outage,
    StateChange,
    Z2MMessage,
    changes_seen,
    startup_messages,
)

DEFAULT_TZ = ZoneInfo("Europe/Amsterdam")
DAY_CACHE_SIZE = 8  # day plans kept per home: enough for chunked publishing


@dataclass(frozen=True, slots=True)
class Noise:
    """Radio and broker imperfections, as probabilities per message (all off by default)."""

    duplicate_p: float = 0.0
    reorder_p: float = 0.0
    drop_p: float = 0.0
    spurious_per_day: float = 0.0  # false motion triggers per motion sensor and day

    @property
    def any(self) -> bool:
        """Whether the message stream is touched (spurious triggers are sensor-side)."""
        return self.duplicate_p > 0 or self.reorder_p > 0 or self.drop_p > 0


@dataclass
class SimulatedHome:
    """One household: a persona living in a home with sensors, seeded and deterministic."""

    household: str
    persona: Persona
    seed: int = 0
    tz: ZoneInfo = DEFAULT_TZ
    injections: list[Injection] = field(default_factory=list)
    noise: Noise = field(default_factory=Noise)
    availability: AvailabilityStyle = AvailabilityStyle.JSON
    availability_timeout_s: float = DEFAULT_AVAILABILITY_TIMEOUT_S
    include_last_seen: bool = False
    devices: list[DeviceSpec] = field(init=False)
    _day_cache: dict[date, list[Stay]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.devices = self.persona.devices()
        self._day_cache = {}

    def sensors(self) -> list[SensorInfo]:
        """The home's sensors as a dataset's sensors.csv lists them."""
        return [SensorInfo(d.sensor, d.kind, d.room) for d in self.devices]

    def device(self, sensor: str) -> DeviceSpec:
        for spec in self.devices:
            if spec.sensor == sensor:
                return spec
        raise KeyError(sensor)

    def default_device_for_scenarios(self) -> str:
        """The device a device scenario hits when none is named: the bathroom motion sensor."""
        for spec in self.devices:
            if spec.kind is Kind.MOTION and spec.room is Room.BATHROOM:
                return spec.sensor
        return self.devices[0].sensor

    def inject(
        self, scenario: str, start: datetime, duration: timedelta | None = None
    ) -> Injection:
        """Place a scenario at an exact time (the demo's scripted fall), and return it.

        Device scenarios hit `default_device_for_scenarios()`. Windows already generated are
        not changed; ask for messages or events again to see the scenario. While
        `publish_homes` runs, the chunk being sent and the one rendered ahead are fixed:
        inject at least two chunks ahead of the clock (or publish with a smaller chunk).
        """
        kind = SCENARIOS[scenario]
        sensor = None
        if kind.effect in (Effect.BATTERY, Effect.DEVICE_OFFLINE):
            sensor = self.default_device_for_scenarios()
        start = start.astimezone(UTC)
        end = start + (kind.default_duration if duration is None else duration)
        day = start.astimezone(self.tz).date()
        injection = Injection(kind, self.household, start, end, day, sensor)
        self.injections.append(injection)
        self._day_cache.clear()  # not getting up and trends bend the day plans
        return injection

    # -- the resident -------------------------------------------------------------------

    def _modifiers(self, day: date) -> DayModifiers:
        return day_modifiers(self.injections, day, self.tz)

    def _day(self, day: date) -> list[Stay]:
        stays = self._day_cache.get(day)
        if stays is None:
            cached = list(self._day_cache)  # a snapshot: `inject` may clear the cache
            if len(cached) >= DAY_CACHE_SIZE:
                self._day_cache.pop(min(cached), None)
            stays = build_day(
                self.persona,
                self.seed,
                self.household,
                day,
                self.tz,
                self._modifiers(day),
                self._modifiers(day + timedelta(days=1)),
            )
            self._day_cache[day] = stays
        return stays

    def stays(self, start: datetime, end: datetime) -> list[Stay]:
        """Everyone's stays overlapping [start, end), scenarios applied, sorted by start."""
        # A day's plan runs from that day's rising to the next, so start a day early.
        day = start.astimezone(self.tz).date() - timedelta(days=1)
        last = end.astimezone(self.tz).date()
        stays: list[Stay] = []
        while day <= last:
            stays.extend(self._day(day))
            day += timedelta(days=1)
        stays = apply_timeline_scenarios(stays, self.injections, self.seed)
        lo, hi = start.timestamp(), end.timestamp()
        return [s for s in stays if s.end > lo and s.start < hi]

    # -- the devices --------------------------------------------------------------------

    def _conditions(self, sensor: str) -> DeviceConditions:
        outages: list[Outage] = []
        drain: Outage | None = None
        for inj in self.injections:
            if inj.sensor != sensor:
                continue
            if inj.kind.effect is Effect.DEVICE_OFFLINE:
                outages.append(Outage(inj.start_s, inj.end_s))
            elif inj.kind.effect is Effect.BATTERY:
                drain = Outage(inj.start_s, inj.end_s)
        return DeviceConditions(tuple(outages), drain, self.noise.spurious_per_day)

    def _gateway_outages(self) -> list[Outage]:
        return [
            Outage(inj.start_s, inj.end_s)
            for inj in self.injections
            if inj.kind.effect is Effect.GATEWAY_OFFLINE
        ]

    def render(
        self, start: datetime, end: datetime, with_messages: bool = True
    ) -> tuple[list[list[tuple[float, Z2MMessage]]], list[StateChange]]:
        """Per device its (time, message) list, and all state changes, in [start, end)."""
        stays = self.stays(start - timedelta(seconds=WARMUP_S), end)
        lo, hi = start.timestamp(), end.timestamp()
        per_device: list[list[tuple[float, Z2MMessage]]] = []
        changes: list[StateChange] = []
        outages = self._gateway_outages()
        for spec in self.devices:
            renderer = DeviceRenderer(
                spec,
                self.seed,
                self.tz,
                self.availability,
                self.availability_timeout_s,
                self._conditions(spec.sensor),
            )
            messages, device_changes = renderer.render(
                stays, lo, hi, with_messages=with_messages or bool(outages)
            )
            if outages:
                # What never left the home never reached a gateway: events follow the
                # messages that got through.
                messages = [(t, m) for t, m in messages if not _inside(t, outages)]
                device_changes = changes_seen(spec, messages, renderer.active_at_start)
            per_device.append(messages)
            changes.extend(device_changes)
        if outages:
            per_device.append(self._bridge_messages(outages, lo, hi))
        changes.sort(key=lambda c: (c.ts, c.spec.sensor))
        return per_device, changes

    def _bridge_messages(
        self, outages: Sequence[Outage], lo: float, hi: float
    ) -> list[tuple[float, Z2MMessage]]:
        out: list[tuple[float, Z2MMessage]] = []
        for outage in outages:
            for t, online in ((outage.start, False), (outage.end, True)):
                if lo <= t < hi:
                    payload = availability_payload(self.availability, online)
                    ts = datetime.fromtimestamp(t, UTC)
                    out.append((t, Z2MMessage(ts, "bridge/state", payload, retain=True)))
        return out

    def messages(self, start: datetime, end: datetime) -> Iterator[Z2MMessage]:
        """Z2M messages with `start <= ts < end`, in time order (unless noise reorders)."""
        per_device, _ = self.render(start, end)
        merged: Iterator[Z2MMessage] = (
            m for _, m in heapq.merge(*per_device, key=lambda item: item[0])
        )
        if self.include_last_seen:
            merged = (_with_last_seen(m) for m in merged)
        if self.noise.any:
            merged = _noisy(merged, self.noise, self.seed)
        yield from merged

    def startup_messages(self, ts: datetime) -> list[Z2MMessage]:
        return list(startup_messages(self.devices, ts, self.availability))

    def state_changes(self, start: datetime, end: datetime) -> list[StateChange]:
        return self.render(start, end, with_messages=False)[1]

    def events(self, start: datetime, end: datetime, first_seq: int = 0) -> Iterator[Event]:
        """The canonical events in [start, end): every state change of every device."""
        for seq, change in enumerate(self.state_changes(start, end), start=first_seq):
            yield self.to_event(change, seq)

    def to_event(self, change: StateChange, seq: int) -> Event:
        spec = change.spec
        if spec.kind is Kind.DOOR:
            value = Value.OPEN if change.active else Value.CLOSED
        else:
            value = Value.ON if change.active else Value.OFF
        ts = datetime.fromtimestamp(change.ts, UTC)
        return Event(
            event_id=make_event_id(self.household, spec.sensor, ts, value.value),
            household=self.household,
            sensor=spec.sensor,
            kind=spec.kind,
            room=spec.room,
            value=value,
            ts=ts,
            seq=seq,
        )


def _inside(t: float, outages: Sequence[Outage]) -> bool:
    return any(o.start <= t < o.end for o in outages)


def _with_last_seen(message: Z2MMessage) -> Z2MMessage:
    if not isinstance(message.payload, dict):
        return message
    stamp = message.ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return Z2MMessage(message.ts, message.topic_suffix, {**message.payload, "last_seen": stamp},
                      message.retain)  # fmt: skip


def _noisy(messages: Iterator[Z2MMessage], noise: Noise, seed: int) -> Iterator[Z2MMessage]:
    """Drop, duplicate and swap neighbouring messages, deterministically per message."""
    held: Z2MMessage | None = None
    for message in messages:
        u = stable_unit(seed, "noise", message.topic_suffix, message.ts.timestamp())
        if u < noise.drop_p:
            continue
        copies = 2 if u < noise.drop_p + noise.duplicate_p else 1
        for _ in range(copies):
            if held is None and stable_unit(seed, "reorder", u) < noise.reorder_p:
                held = message  # goes out after the next one
                continue
            yield message
            if held is not None:
                yield held
                held = None
    if held is not None:
        yield held
