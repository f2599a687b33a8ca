"""Home-broker messages -> canonical events and device health: a pure core, no I/O.

Protocol-neutral: the sources (gateway.sources) say whose message a topic carries and what
its payload says (`Reading`); this core keeps each device's state, turns state *changes*
into events, tracks health and counts every rejected message by reason.

Zigbee2MQTT repeats a device's full cached state in every message (a battery report repeats
`occupancy: true`), so an event is a state change per device, not a message. Retained
messages are cached state, not news: they only initialise a device's state. When a reading
carries the device's own time (Zigbee2MQTT `last_seen`) close to the gateway clock, that is
the event time (a redelivered message then yields the same `event_id`, and one no newer than
the device's last seen state is recognised as a replay); otherwise the injected clock is.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dagritme.clock import Clock
from dagritme.models import DeviceHealth, Event, Value, make_event_id
from gateway.config import DeviceMapping
from gateway.health import HealthTracker
from gateway.rejects import Reason, RejectCounter
from gateway.sources import (
    DeviceListRoute,
    PayloadError,
    Reading,
    Route,
    Router,
    Source,
    SourceTopics,
    routers,
    value_for,
)

logger = logging.getLogger(__name__)

# A gateway clock before this is not set (a Pi without RTC before NTP sync).
EARLIEST_PLAUSIBLE = datetime(2024, 1, 1, tzinfo=UTC)

# Topics of mapped devices whose route is remembered (a handful per device in practice).
MAX_KNOWN_ROUTES = 10_000

Output = Event | DeviceHealth
DEFAULT_SOURCE_TOPICS = SourceTopics()


@dataclass(slots=True)
class SensorState:
    """What the gateway last knew about one sensor (persisted with the queue)."""

    value: Value | None = None
    # The device's own `last_seen` of the newest state message: a message no newer than this
    # is a redelivery. Clock-based times never land here, so a gateway clock running ahead
    # cannot make real news look old.
    ts: datetime | None = None


class Normaliser:
    """Turns (topic, payload) from the home broker into canonical events and health.

    >>> from datetime import datetime, UTC
    >>> from dagritme.clock import ManualClock
    >>> from dagritme.models import Kind, Room
    >>> hall = DeviceMapping(friendly_name="hall", sensor="M1", kind=Kind.MOTION, room=Room.HALL)
    >>> norm = Normaliser("hh1", [hall], ManualClock(datetime(2026, 1, 5, 7, tzinfo=UTC)))
    >>> [out.value.value for out in norm.handle("zigbee2mqtt/hall", b'{"occupancy":true}')
    ...  if isinstance(out, Event)]
    ['on']
    >>> [out for out in norm.handle("zigbee2mqtt/hall", b'{"occupancy":true}')
    ...  if isinstance(out, Event)]
    []
    """

    def __init__(
        self,
        household: str,
        devices: Iterable[DeviceMapping],
        clock: Clock,
        *,
        base_topic: str = "zigbee2mqtt",
        first_seq: int = 0,
        states: Mapping[str, SensorState] | None = None,
        max_payload_bytes: int = 16_384,
        max_clock_skew: timedelta = timedelta(minutes=5),
        health_interval: timedelta = timedelta(minutes=15),
        health_detail: bool = True,
        source_topics: SourceTopics = DEFAULT_SOURCE_TOPICS,
    ) -> None:
        self.household = household
        self.clock = clock
        self.base_topic = base_topic
        self.next_seq = first_seq
        self.max_payload_bytes = max_payload_bytes
        self.max_clock_skew = max_clock_skew
        self.health_interval = health_interval
        self.health_detail = health_detail
        self.source_topics = source_topics
        self.rejects = RejectCounter()
        self.unknown_devices: set[str] = set()
        self.unpaired_devices: set[str] = set()
        self.last_clock_skew_s: float | None = None
        self._routers: dict[str, Router] = routers(base_topic, source_topics)
        # Topic -> its route and mapped device: the hot path skips parsing the topic.
        self._known_routes: dict[str, tuple[Route, DeviceMapping]] = {}
        mapped = list(devices)
        self._devices: dict[tuple[Source, str], DeviceMapping] = {
            (device.source, device.friendly_name): device for device in mapped
        }
        self._states: dict[str, SensorState] = {device.sensor: SensorState() for device in mapped}
        self._dirty: set[str] = set()
        self.restore(states or {}, first_seq)
        self._health = HealthTracker(
            household, list(self._states), interval=health_interval, detail=health_detail
        )
        self._clock_warned = False

    # -- public API ---------------------------------------------------------------------

    def handle(self, topic: str, payload: bytes, retained: bool = False) -> list[Output]:
        """Normalise one home-broker message; bad input is counted, never raised."""
        known = self._known_routes.get(topic)
        if known is not None:
            route, device = known
            now = self._now()
        else:
            router = self._routers.get(topic.partition("/")[0])
            located = router.route(topic) if router is not None else None
            if located is None:
                return []
            if isinstance(located, DeviceListRoute):
                self._check_paired(located, payload)
                return []
            route = located
            now = self._now()
            found = self._devices.get((route.source, route.name))
            if found is None:
                self.unknown_devices.add(route.name)
                self.rejects.count(Reason.UNKNOWN_DEVICE, route.name, now, "not in the device map")
                return []
            device = found
            if len(self._known_routes) < MAX_KNOWN_ROUTES:
                self._known_routes[topic] = (route, device)
        name = route.name
        if len(payload) > self.max_payload_bytes:
            self.rejects.count(Reason.OVERSIZED, name, now, f"{len(payload)} bytes")
            return []
        try:
            reading = route.read(payload, device)
        except PayloadError as err:
            self.rejects.count(err.reason, name, now, str(err))
            return []
        if reading is None:
            return []
        return self._apply(device, name, reading, retained, now)

    def restore(self, states: Mapping[str, SensorState], next_seq: int) -> None:
        """Reset device states and the sequence to what was last persisted."""
        for sensor in self._states:
            saved = states.get(sensor)
            self._states[sensor] = SensorState(saved.value, saved.ts) if saved else SensorState()
        self.next_seq = next_seq
        self._dirty = set()

    def take_dirty_states(self) -> dict[str, SensorState]:
        """States changed since the last call, to persist together with the queued events."""
        # Copies: the queue thread writes them while the loop goes on changing the originals.
        dirty = {
            sensor: SensorState(self._states[sensor].value, self._states[sensor].ts)
            for sensor in self._dirty
        }
        self._dirty = set()
        return dirty

    def states(self) -> dict[str, SensorState]:
        return dict(self._states)

    # -- internals ----------------------------------------------------------------------

    def _now(self) -> datetime:
        now = self.clock.now()
        if now < EARLIEST_PLAUSIBLE and not self._clock_warned:
            self._clock_warned = True
            logger.warning("gateway clock reads %s: not set? event times may be wrong", now)
        return now

    def _apply(
        self, device: DeviceMapping, name: str, reading: Reading, retained: bool, now: datetime
    ) -> list[Output]:
        if reading.problems:
            for problem in reading.problems:
                self.rejects.count(problem.reason, name, now, str(problem))
        sensor = device.sensor
        if reading.availability is not None:
            report = self._health.set_availability(sensor, reading.availability, now)
            return [report] if report is not None else []
        health_changed = self._health.heard(sensor, reading, now)
        if not reading.says_something:
            return []
        out: list[Output] = []
        if reading.active is not None:
            ts, from_device = self._event_time(name, reading.device_time, now)
            value = value_for(device.kind, reading.active != device.inverted)
            event = self._change(device, value, ts, from_device, retained, name, now)
            if event is not None:
                out.append(event)
        if not retained:
            health = self._health.report(sensor, now, force=health_changed)
            if health is not None:
                out.append(health)
        return out

    def _event_time(self, name: str, seen: datetime | None, now: datetime) -> tuple[datetime, bool]:
        """Event time and whether it came from the device's own clock."""
        if seen is None:
            return now, False
        skew = (now - seen).total_seconds()
        self.last_clock_skew_s = skew
        if abs(skew) > self.max_clock_skew.total_seconds():
            self.rejects.count(Reason.CLOCK_SKEW, name, now, f"last_seen off by {skew:.0f} s")
            return now, False
        return seen, True

    def _change(
        self,
        mapping: DeviceMapping,
        value: Value,
        ts: datetime,
        from_device: bool,
        retained: bool,
        name: str,
        now: datetime,
    ) -> Event | None:
        state = self._states[mapping.sensor]
        if retained:
            # Cached state from the broker: a starting point, not a change that just happened.
            if state.value is None:
                state.value = value
                state.ts = ts if from_device else None
                self._dirty.add(mapping.sensor)
            return None
        if from_device and state.ts is not None and ts <= state.ts:
            # Redelivered or out-of-order message: already accounted for.
            self.rejects.count(Reason.STALE, name, now, "not newer than the last state")
            return None
        changed = value != state.value
        state.value = value
        if from_device:
            state.ts = ts
        self._dirty.add(mapping.sensor)
        if not changed:
            return None
        seq = self.next_seq
        self.next_seq += 1
        # Validated construction: in pydantic 2 it is faster than model_construct.
        return Event(
            event_id=make_event_id(self.household, mapping.sensor, ts, value.value),
            household=self.household,
            sensor=mapping.sensor,
            kind=mapping.kind,
            room=mapping.room,
            value=value,
            ts=ts,
            seq=seq,
        )

    def _check_paired(self, route: DeviceListRoute, payload: bytes) -> None:
        """Compare a source's paired devices with the map; report each difference once."""
        try:
            paired = route.read_names(payload)
        except PayloadError as err:
            self.rejects.count(err.reason, route.name, self.clock.now())
            return
        mapped = {name for source, name in self._devices if source is route.source}
        for name in sorted(paired - mapped - self.unknown_devices):
            self.unknown_devices.add(name)
            logger.warning(
                "device %r is paired in %s but not in the device map", name, route.source.value
            )
        for name in sorted(mapped - paired - self.unpaired_devices):
            self.unpaired_devices.add(name)
            logger.warning("device %r is in the device map but not paired", name)
