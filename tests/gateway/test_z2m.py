"""The pure normaliser: Zigbee2MQTT payloads in, canonical events and device health out."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagritme.clock import ManualClock
from dagritme.models import Availability, DeviceHealth, Event, Value, make_event_id
from gateway.normaliser import Normaliser, SensorState
from tests.gateway.conftest import DEVICES, HOUSEHOLD, fixture_bytes

NOW = datetime(2026, 3, 2, 6, 41, 30, tzinfo=UTC)
BEDROOM = "zigbee2mqtt/bedroom_motion"
DOOR = "zigbee2mqtt/front_door"


def make(clock: ManualClock | None = None, **kwargs: object) -> Normaliser:
    return Normaliser(HOUSEHOLD, DEVICES, clock or ManualClock(NOW), **kwargs)  # type: ignore[arg-type]


def events(outputs: list[Event | DeviceHealth]) -> list[Event]:
    return [output for output in outputs if isinstance(output, Event)]


def health(outputs: list[Event | DeviceHealth]) -> list[DeviceHealth]:
    return [output for output in outputs if isinstance(output, DeviceHealth)]


def test_motion_event_uses_last_seen_and_a_stable_id() -> None:
    out = make().handle(BEDROOM, fixture_bytes("motion_occupied.json"))
    [event] = events(out)
    ts = datetime(2026, 3, 2, 6, 41, 7, 123000, tzinfo=UTC)
    assert event.ts == ts
    assert event.value is Value.ON
    assert event.sensor == "M001"
    assert event.seq == 0
    assert event.event_id == make_event_id(HOUSEHOLD, "M001", ts, "on")
    [report] = health(out)
    assert report.battery == 97
    assert report.linkquality == 120


def test_a_battery_report_repeating_the_state_is_not_an_event() -> None:
    normaliser = make()
    normaliser.handle(BEDROOM, fixture_bytes("motion_occupied.json"))
    out = normaliser.handle(BEDROOM, fixture_bytes("motion_battery_report.json"))
    assert events(out) == []
    assert [report.battery for report in health(out)] == [96]
    assert normaliser.next_seq == 1


def test_door_contact_is_inverted_and_epoch_last_seen_is_read() -> None:
    normaliser = make()
    [opened] = events(normaliser.handle(DOOR, fixture_bytes("door_open.json")))
    assert opened.value is Value.OPEN
    assert opened.is_exterior_door
    assert opened.ts == datetime.fromtimestamp(1772433667, UTC)
    closed = json.dumps({"contact": True, "last_seen": 1772433690000}).encode()
    [shut] = events(normaliser.handle(DOOR, closed))
    assert shut.value is Value.CLOSED


def test_contact_sensor_reads_on_when_opened() -> None:
    [used] = events(make().handle("zigbee2mqtt/fridge", b'{"contact":false}'))
    assert used.value is Value.ON


def test_without_last_seen_the_clock_gives_the_time() -> None:
    [event] = events(make().handle("zigbee2mqtt/kitchen/motion", b'{"occupancy":true}'))
    assert event.ts == NOW
    assert event.sensor == "M002"


def test_implausible_last_seen_falls_back_to_the_clock_and_is_counted() -> None:
    normaliser = make()
    skewed = json.dumps({"occupancy": True, "last_seen": "2020-01-01T00:00:00Z"}).encode()
    [event] = events(normaliser.handle(BEDROOM, skewed))
    assert event.ts == NOW
    assert normaliser.rejects.by_reason() == {"clock_skew": 1}


def test_replayed_message_is_recognised_after_a_restart() -> None:
    first = make()
    first.handle(BEDROOM, fixture_bytes("motion_occupied.json"))
    off = json.dumps({"occupancy": False, "last_seen": "2026-03-02T06:41:20.000Z"}).encode()
    first.handle(BEDROOM, off)
    restarted = make(states=first.states(), first_seq=first.next_seq)
    # The broker redelivers both unacknowledged messages: neither is news.
    assert events(restarted.handle(BEDROOM, fixture_bytes("motion_occupied.json"))) == []
    assert events(restarted.handle(BEDROOM, off)) == []
    on_again = json.dumps({"occupancy": True, "last_seen": "2026-03-02T06:41:25.000Z"}).encode()
    [event] = events(restarted.handle(BEDROOM, on_again))
    assert event.seq == 2


def test_retained_state_initialises_without_an_event() -> None:
    normaliser = make()
    assert normaliser.handle(BEDROOM, fixture_bytes("motion_occupied.json"), retained=True) == []
    assert normaliser.states()["M001"] == SensorState(
        Value.ON, datetime(2026, 3, 2, 6, 41, 7, 123000, tzinfo=UTC)
    )
    off = json.dumps({"occupancy": False}).encode()
    assert [event.value for event in events(normaliser.handle(BEDROOM, off))] == [Value.OFF]


@pytest.mark.parametrize(
    ("payload", "availability"),
    [
        (b"offline", Availability.OFFLINE),
        (b'{"state":"offline"}', Availability.OFFLINE),
        (b"online", Availability.ONLINE),
    ],
)
def test_availability_both_formats(payload: bytes, availability: Availability) -> None:
    normaliser = make()
    [report] = health(normaliser.handle("zigbee2mqtt/kitchen/motion/availability", payload))
    assert report.availability is availability
    assert report.sensor == "M002"


def test_offline_then_a_message_means_online_again() -> None:
    normaliser = make()
    offline = fixture_bytes("availability_v2_offline.json")
    normaliser.handle("zigbee2mqtt/bedroom_motion/availability", offline)
    [report] = health(normaliser.handle(BEDROOM, fixture_bytes("motion_occupied.json")))
    assert report.availability is Availability.ONLINE


def test_health_is_published_on_change_or_when_due() -> None:
    clock = ManualClock(NOW)
    normaliser = make(clock, health_interval=timedelta(minutes=15))
    assert health(normaliser.handle(BEDROOM, b'{"battery":90,"linkquality":100}'))
    assert not health(normaliser.handle(BEDROOM, b'{"battery":90,"linkquality":110}'))
    assert health(normaliser.handle(BEDROOM, b'{"battery":89,"linkquality":110}'))
    clock.advance(timedelta(minutes=16))
    assert health(normaliser.handle(BEDROOM, b'{"battery":89,"linkquality":110}'))


def test_private_sharing_leaves_out_activity_revealing_health() -> None:
    normaliser = make(health_detail=False)
    [report] = health(normaliser.handle(BEDROOM, fixture_bytes("motion_occupied.json")))
    assert report.last_seen is None
    assert report.linkquality is None
    # Periodic reports would follow activity; only battery/availability changes are sent.
    assert not health(normaliser.handle(BEDROOM, b'{"occupancy":false,"battery":97}'))


def test_bridge_devices_reports_each_difference_once(caplog: pytest.LogCaptureFixture) -> None:
    normaliser = make()
    with caplog.at_level(logging.WARNING):
        normaliser.handle("zigbee2mqtt/bridge/devices", fixture_bytes("bridge_devices.json"))
        normaliser.handle("zigbee2mqtt/bridge/devices", fixture_bytes("bridge_devices.json"))
    assert normaliser.unknown_devices == {"living_plug"}
    assert normaliser.unpaired_devices == {"kitchen/motion", "fridge"}
    assert sum("living_plug" in record.getMessage() for record in caplog.records) == 1


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe\x00", "invalid_utf8"),
        (b"{not json", "not_json"),
        (b'"occupied"', "not_an_object"),
        (b'{"occupancy":"yes"}', "wrong_type"),
        (b'{"occupancy":1}', "wrong_type"),
        (b'{"temperature":21.5}', "no_state"),
        (b'{"battery":"full"}', "wrong_type"),
        (b'{"occupancy":true,"last_seen":"yesterday"}', "bad_last_seen"),
        (b"x" * 20_000, "oversized"),
    ],
)
def test_bad_payloads_are_counted_by_reason(payload: bytes, reason: str) -> None:
    normaliser = make()
    normaliser.handle(BEDROOM, payload)
    assert normaliser.rejects.by_reason() == {reason: 1}


def test_rejects_are_logged_once_per_device_per_period(caplog: pytest.LogCaptureFixture) -> None:
    normaliser = make()
    with caplog.at_level(logging.WARNING):
        for _ in range(50):
            normaliser.handle(BEDROOM, b"{broken")
            normaliser.handle("zigbee2mqtt/stranger", b'{"occupancy":true}')
    assert normaliser.rejects.total() == 100
    assert len(caplog.records) == 2
    assert normaliser.unknown_devices == {"stranger"}


def test_topics_outside_the_devices_are_ignored() -> None:
    normaliser = make()
    for topic in ("zigbee2mqtt/bridge/state", "zigbee2mqtt/bedroom_motion/set", "other/x"):
        assert normaliser.handle(topic, b"online") == []
    assert normaliser.rejects.total() == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
state_like = st.fixed_dictionaries(
    {},
    optional={
        "occupancy": json_values,
        "contact": json_values,
        "battery": json_values,
        "linkquality": json_values,
        "last_seen": json_values | st.datetimes(timezones=st.just(UTC)).map(str),
    },
)
payloads = (
    st.binary(max_size=300)
    | json_values.map(lambda value: json.dumps(value).encode())
    | state_like.map(lambda value: json.dumps(value).encode())
)
topic_names = st.sampled_from(
    [
        BEDROOM,
        DOOR,
        "zigbee2mqtt/fridge",
        "zigbee2mqtt/kitchen/motion/availability",
        "zigbee2mqtt/bridge/devices",
        "zigbee2mqtt/unknown",
    ]
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(messages=st.lists(st.tuples(topic_names, payloads, st.booleans()), max_size=20))
def test_any_input_is_normalised_or_counted_never_raised(
    messages: list[tuple[str, bytes, bool]],
) -> None:
    normaliser = make()
    seqs: list[int] = []
    for topic, payload, retained in messages:
        for output in normaliser.handle(topic, payload, retained):
            # Whatever comes out is a valid contract payload of this household.
            assert output.household == HOUSEHOLD
            if isinstance(output, Event):
                seqs.append(output.seq)
                assert output.ts.tzinfo is not None
    assert seqs == list(range(len(seqs)))
    assert normaliser.next_seq == len(seqs)


@settings(max_examples=100, deadline=None)
@given(flips=st.lists(st.booleans(), min_size=1, max_size=40))
def test_events_are_exactly_the_state_changes(flips: list[bool]) -> None:
    clock = ManualClock(NOW)
    normaliser = make(clock)
    produced: list[Value] = []
    for on in flips:
        clock.advance(timedelta(seconds=1))
        payload = json.dumps({"occupancy": on, "battery": 90}).encode()
        produced += [event.value for event in events(normaliser.handle(BEDROOM, payload))]
    expected = [
        Value.ON if on else Value.OFF for i, on in enumerate(flips) if i == 0 or on != flips[i - 1]
    ]
    assert produced == expected


def test_a_clock_fallback_does_not_make_later_device_times_look_stale() -> None:
    clock = ManualClock(NOW)
    normaliser = make(clock)
    normaliser.handle(BEDROOM, b'{"occupancy":true}')  # no last_seen: the clock's time
    earlier_than_clock = json.dumps(
        {"occupancy": False, "last_seen": "2026-03-02T06:41:29.000Z"}
    ).encode()
    [event] = events(normaliser.handle(BEDROOM, earlier_than_clock))
    assert event.value is Value.OFF
    assert normaliser.rejects.total() == 0
