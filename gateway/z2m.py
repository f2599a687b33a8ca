"""Zigbee2MQTT messages -> canonical events and device health: a pure core, no I/O.

Zigbee2MQTT repeats a device's full cached state in every message (a battery report repeats
`occupancy: true`), so an event is a state *change* per device, not a message. Retained
messages are cached state, not news: they only initialise a device's state. When a message
carries `last_seen` close to the gateway clock, that is the event time (a redelivered
message then yields the same `event_id`, and one no newer than the device's last seen state
is recognised as a replay); otherwise the injected clock is.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dagritme.clock import Clock
from dagritme.models import Availability, DeviceHealth, Event, Value, make_event_id
from gateway import payloads, sources
from gateway.config import DeviceMapping
from gateway.payloads import PayloadError, StateRule
from gateway.rejects import Reason, RejectCounter
from gateway.sources import Source, SourceTopics

logger = logging.getLogger(__name__)

# A gateway clock before this is not set (a Pi without RTC before NTP sync).
EARLIEST_PLAUSIBLE = datetime(2024, 1, 1, tzinfo=UTC)
# Linkquality wobbles constantly; only a move this large is news on its own.
LINKQUALITY_STEP = 30
IGNORED_SUFFIXES = ("/set", "/get")

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


@dataclass(slots=True)
class _Health:
    availability: Availability = Availability.ONLINE
    battery: float | None = None
    linkquality: int | None = None
    last_seen: datetime | None = None
    published: DeviceHealth | None = None


@dataclass(frozen=True, slots=True)
class _Device:
    mapping: DeviceMapping
    rules: list[StateRule]


def subscription(base_topic: str) -> str:
    """The home-broker filter that covers every Zigbee2MQTT topic under `base_topic`."""
    return f"{base_topic}/#"


class Z2MNormaliser:
    """Turns (topic, payload) from the home broker into canonical events and health.

    >>> from datetime import datetime, UTC
    >>> from dagritme.clock import ManualClock
    >>> from dagritme.models import Kind, Room
    >>> hall = DeviceMapping(friendly_name="hall", sensor="M1", kind=Kind.MOTION, room=Room.HALL)
    >>> norm = Z2MNormaliser("hh1", [hall], ManualClock(datetime(2026, 1, 5, 7, tzinfo=UTC)))
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
        self.rejects = RejectCounter()
        self.unknown_devices: set[str] = set()
        self.unpaired_devices: set[str] = set()
        self.last_clock_skew_s: float | None = None
        self._prefix = base_topic + "/"
        self.source_topics = source_topics
        mapped = [_Device(device, payloads.rules_for(device.kind)) for device in devices]
        self._devices = {
            device.mapping.friendly_name: device
            for device in mapped
            if device.mapping.source is Source.ZIGBEE2MQTT
        }
        # Tasmota and Shelly devices, by (source, topic name).
        self._foreign: dict[tuple[Source, str], _Device] = {
            (device.mapping.source, device.mapping.friendly_name): device
            for device in mapped
            if device.mapping.source is not Source.ZIGBEE2MQTT
        }
        self._states: dict[str, SensorState] = {
            device.mapping.sensor: SensorState() for device in mapped
        }
        self._dirty: set[str] = set()
        self.restore(states or {}, first_seq)
        self._health: dict[str, _Health] = {sensor: _Health() for sensor in self._states}
        self._clock_warned = False

    # -- public API ---------------------------------------------------------------------

    def handle(self, topic: str, payload: bytes, retained: bool = False) -> list[Output]:
        """Normalise one home-broker message; bad input is counted, never raised."""
        if not topic.startswith(self._prefix):
            return self._foreign_message(topic, payload, retained)
        rest = topic[len(self._prefix) :]
        if rest.startswith("bridge/"):
            if rest == "bridge/devices":
                self._check_paired(payload)
            return []
        if rest.endswith(IGNORED_SUFFIXES) or "/set/" in rest:
            return []
        if rest.endswith("/availability"):
            return self._availability(rest[: -len("/availability")], payload)
        return self._state(rest, payload, retained)

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

    def _device(self, name: str, now: datetime) -> _Device | None:
        device = self._devices.get(name)
        if device is None:
            if name not in self.unknown_devices:
                self.unknown_devices.add(name)
            self.rejects.count(Reason.UNKNOWN_DEVICE, name, now, "not in the device map")
        return device

    def _now(self) -> datetime:
        now = self.clock.now()
        if now < EARLIEST_PLAUSIBLE and not self._clock_warned:
            self._clock_warned = True
            logger.warning("gateway clock reads %s: not set? event times may be wrong", now)
        return now

    def _decode(self, name: str, payload: bytes, now: datetime) -> dict[str, object] | None:
        if len(payload) > self.max_payload_bytes:
            self.rejects.count(Reason.OVERSIZED, name, now, f"{len(payload)} bytes")
            return None
        try:
            text = payload.decode()
        except UnicodeDecodeError:
            self.rejects.count(Reason.INVALID_UTF8, name, now)
            return None
        try:
            data = json.loads(text)
        except ValueError:
            self.rejects.count(Reason.NOT_JSON, name, now)
            return None
        if not isinstance(data, dict):
            self.rejects.count(Reason.NOT_AN_OBJECT, name, now)
            return None
        return data

    def _event_time(
        self, name: str, data: dict[str, object], now: datetime
    ) -> tuple[datetime, bool]:
        """Event time and whether it came from the device's own `last_seen`."""
        try:
            seen = payloads.last_seen(data)
        except PayloadError as err:
            self.rejects.count(err.reason, name, now, str(err))
            return now, False
        if seen is None:
            return now, False
        skew = (now - seen).total_seconds()
        self.last_clock_skew_s = skew
        if abs(skew) > self.max_clock_skew.total_seconds():
            self.rejects.count(Reason.CLOCK_SKEW, name, now, f"last_seen off by {skew:.0f} s")
            return now, False
        return seen, True

    def _state(self, name: str, payload: bytes, retained: bool) -> list[Output]:
        now = self._now()
        device = self._device(name, now)
        if device is None:
            return []
        data = self._decode(name, payload, now)
        if data is None:
            return []
        sensor = device.mapping.sensor
        rejected = False
        try:
            value = payloads.state_value(data, device.rules)
        except PayloadError as err:
            self.rejects.count(err.reason, name, now, str(err))
            value, rejected = None, True
            data = {key: item for key, item in data.items() if key in payloads.HEALTH_KEYS}
        health_changed = self._read_health(name, sensor, data, now)
        if value is None and not _has_health_keys(data):
            if not rejected:
                self.rejects.count(Reason.NO_STATE, name, now, "no state or health keys")
            return []
        out: list[Output] = []
        if value is not None:
            ts, from_device = self._event_time(name, data, now)
            event = self._change(device.mapping, value, ts, from_device, retained, name, now)
            if event is not None:
                out.append(event)
        if not retained:
            health = self._maybe_health(sensor, now, force=health_changed)
            if health is not None:
                out.append(health)
        return out

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

    def _read_health(self, name: str, sensor: str, data: dict[str, object], now: datetime) -> bool:
        """Update battery/linkquality/last_seen; True when the change is news on its own."""
        health = self._health[sensor]
        changed = False
        try:
            level = payloads.battery(data)
            if level is not None:
                changed = changed or health.battery is None or round(level) != round(health.battery)
                health.battery = level
        except PayloadError as err:
            self.rejects.count(err.reason, name, now, str(err))
        try:
            quality = payloads.linkquality(data)
            if quality is not None:
                if self.health_detail and (
                    health.linkquality is None
                    or abs(quality - health.linkquality) >= LINKQUALITY_STEP
                ):
                    changed = True
                health.linkquality = quality
        except PayloadError as err:
            self.rejects.count(err.reason, name, now, str(err))
        health.last_seen = now
        if health.availability is Availability.OFFLINE:
            # A device that talks is online, whatever the last availability message said.
            health.availability = Availability.ONLINE
            changed = True
        return changed

    def _maybe_health(self, sensor: str, now: datetime, force: bool) -> DeviceHealth | None:
        health = self._health[sensor]
        previous = health.published
        due = self.health_detail and (previous is None or now - previous.ts >= self.health_interval)
        if not (force or due):
            return None
        report = DeviceHealth(
            household=self.household,
            sensor=sensor,
            ts=now,
            availability=health.availability,
            battery=health.battery,
            linkquality=health.linkquality if self.health_detail else None,
            last_seen=health.last_seen if self.health_detail else None,
        )
        health.published = report
        return report

    def _availability(self, name: str, payload: bytes) -> list[Output]:
        now = self._now()
        device = self._device(name, now)
        if device is None:
            return []
        try:
            availability = payloads.availability(payload)
        except PayloadError as err:
            self.rejects.count(err.reason, name, now, str(err))
            return []
        return self._set_availability(device.mapping.sensor, availability, now)

    def _set_availability(
        self, sensor: str, availability: Availability, now: datetime
    ) -> list[Output]:
        health = self._health[sensor]
        if availability is health.availability and health.published is not None:
            return []
        if availability is not health.availability:
            logger.info("sensor %s is now %s", sensor, availability.value)
        health.availability = availability
        report = self._maybe_health(sensor, now, force=True)
        return [report] if report is not None else []

    def _foreign_message(self, topic: str, payload: bytes, retained: bool) -> list[Output]:
        """A Tasmota or Shelly message (see gateway.sources); the gateway clock dates it."""
        located = sources.locate(topic, self.source_topics)
        if located is None:
            return []
        source, name, rest = located
        now = self._now()
        device = self._foreign.get((source, name))
        if device is None:
            self._device(name, now)  # counted as an unknown device
            return []
        mapping = device.mapping
        if len(payload) > self.max_payload_bytes:
            self.rejects.count(Reason.OVERSIZED, name, now, f"{len(payload)} bytes")
            return []
        try:
            if source is Source.TASMOTA:
                reading = sources.read_tasmota(rest, payload, mapping.channel)
            else:
                reading = sources.read_shelly(rest, payload)
        except PayloadError as err:
            self.rejects.count(err.reason, name, now, str(err))
            return []
        if reading is None:
            return []
        if reading.availability is not None:
            return self._set_availability(mapping.sensor, reading.availability, now)
        data: dict[str, object] = {} if reading.battery is None else {"battery": reading.battery}
        health_changed = self._read_health(name, mapping.sensor, data, now)
        out: list[Output] = []
        if reading.active is not None:
            active = reading.active != mapping.inverted
            value = sources.value_for(mapping.kind, active)
            event = self._change(mapping, value, now, False, retained, name, now)
            if event is not None:
                out.append(event)
        if not retained:
            health = self._maybe_health(mapping.sensor, now, force=health_changed)
            if health is not None:
                out.append(health)
        return out

    def _check_paired(self, payload: bytes) -> None:
        """Compare Z2M's device list with the map; report each difference once."""
        try:
            listed = json.loads(payload)
        except ValueError:
            self.rejects.count(Reason.NOT_JSON, "bridge/devices", self.clock.now())
            return
        if not isinstance(listed, list):
            self.rejects.count(Reason.NOT_AN_OBJECT, "bridge/devices", self.clock.now())
            return
        paired = {
            entry["friendly_name"]
            for entry in listed
            if isinstance(entry, dict)
            and isinstance(entry.get("friendly_name"), str)
            and entry.get("type") != "Coordinator"
        }
        for name in sorted(paired - set(self._devices) - self.unknown_devices):
            self.unknown_devices.add(name)
            logger.warning("device %r is paired in Zigbee2MQTT but not in the device map", name)
        for name in sorted(set(self._devices) - paired - self.unpaired_devices):
            self.unpaired_devices.add(name)
            logger.warning("device %r is in the device map but not paired", name)


def _has_health_keys(data: Mapping[str, object]) -> bool:
    return any(key in data for key in payloads.HEALTH_KEYS)
