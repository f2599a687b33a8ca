"""Edge mode: a local detector hook; with private sharing no raw event leaves the home."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from dagritme import topics
from dagritme.clock import ManualClock, WallClock
from dagritme.models import Alert, AlertType, DetectorStatus, Event, Evidence, Severity
from dagritme.mqtt import BrokerSettings
from detector.core import Detector
from gateway.cli import load_local_detector
from gateway.config import GatewayConfig, Sharing
from gateway.edge import DailySummaries, DailySummary, summaries_topic
from gateway.service import Gateway
from tests.gateway.conftest import (
    HOUSEHOLD,
    consuming,
    motion_payload,
    poll_until,
    publisher,
    running,
)

pytestmark = pytest.mark.integration


class NightDoorHook:
    """A small real detector: the exterior door opening raises an alert; ticks are counted."""

    def __init__(self) -> None:
        self.observed: list[Event] = []
        self.ticks = 0

    def observe(self, event: Event) -> list[Alert]:
        self.observed.append(event)
        if not (event.is_exterior_door and event.active):
            return []
        return [
            Alert(
                alert_id=f"door-{event.event_id}",
                ts=event.ts,
                household=event.household,
                type=AlertType.NIGHT_DOOR,
                severity=Severity.URGENT,
                message="The front door opened at night; usually it stays shut.",
                evidence=Evidence(sensors=[event.sensor]),
            )
        ]

    def tick(self, now: datetime) -> list[Alert]:
        self.ticks += 1
        return []


def private(config: GatewayConfig, sharing: Sharing) -> GatewayConfig:
    return config.model_copy(update={"sharing": sharing, "tick_interval_s": 0.05})


async def test_alerts_only_sends_alerts_and_health_but_no_raw_event(
    gateway_config: GatewayConfig, broker: BrokerSettings, consumer_settings: BrokerSettings
) -> None:
    hook = NightDoorHook()
    gateway = Gateway(private(gateway_config, Sharing.ALERTS_ONLY), WallClock(), hook)
    async with consuming(consumer_settings, HOUSEHOLD) as seen:
        async with running(gateway), publisher(broker) as z2m:
            await z2m.publish("zigbee2mqtt/bedroom_motion", motion_payload(True), qos=1)
            await z2m.publish("zigbee2mqtt/front_door", b'{"contact":false,"battery":70}', qos=1)
            alerts = await seen.wait_for(topics.alerts(HOUSEHOLD))
            assert await poll_until(lambda: hook.ticks > 0)
            await asyncio.sleep(0.3)
    assert len(hook.observed) == 2
    [raw] = alerts
    alert = Alert.model_validate_json(raw)
    assert alert.type is AlertType.NIGHT_DOOR
    assert seen.events == []
    everything = [payload for payloads in seen.other.values() for payload in payloads]
    assert all(b"event_id" not in payload for payload in everything)
    door_health = json.loads(seen.other[topics.device_health(HOUSEHOLD, "D001")][-1])
    assert door_health["battery"] == 70
    assert "last_seen" not in door_health


async def test_summaries_leave_the_home_once_the_day_is_over(
    gateway_config: GatewayConfig, broker: BrokerSettings, consumer_settings: BrokerSettings
) -> None:
    clock = ManualClock(datetime.now(UTC))
    gateway = Gateway(private(gateway_config, Sharing.SUMMARIES), clock)
    async with consuming(consumer_settings, HOUSEHOLD) as seen:
        async with running(gateway), publisher(broker) as z2m:
            await z2m.publish("zigbee2mqtt/bedroom_motion", motion_payload(True), qos=1)
            await z2m.publish("zigbee2mqtt/bedroom_motion", motion_payload(False), qos=1)
            await z2m.publish("zigbee2mqtt/kitchen/motion", motion_payload(True), qos=1)
            assert await poll_until(lambda: gateway.counters["events"] == 3)
            clock.advance(timedelta(days=1))
            raw = await seen.wait_for(summaries_topic(HOUSEHOLD))
    assert seen.events == []
    summary = DailySummary.model_validate_json(raw[-1])
    assert summary.total_events == 3
    assert {room.value: n for room, n in summary.active_by_room.items()} == {
        "bedroom": 1,
        "kitchen": 1,
    }


def test_daily_summaries_follow_the_home_time_zone() -> None:
    summaries = DailySummaries(HOUSEHOLD, "Europe/Amsterdam")
    late = datetime(2026, 1, 5, 22, 30, tzinfo=UTC)  # 23:30 in Amsterdam: still the 5th
    event = Event(
        event_id="e" * 12,
        household=HOUSEHOLD,
        sensor="M001",
        kind="motion",
        room="bedroom",
        value="on",
        ts=late,
        seq=0,
    )
    summaries.add(event)
    assert summaries.due(datetime(2026, 1, 5, 22, 50, tzinfo=UTC)) == []
    [done] = summaries.due(datetime(2026, 1, 5, 23, 10, tzinfo=UTC))
    assert str(done.day) == "2026-01-05"


async def test_the_real_detector_runs_in_the_home_with_alerts_only(
    gateway_config: GatewayConfig, broker: BrokerSettings, consumer_settings: BrokerSettings
) -> None:
    config = private(gateway_config, Sharing.ALERTS_ONLY)
    detector, learning = load_local_detector(config)
    assert isinstance(detector, Detector)
    gateway = Gateway(config, WallClock(), detector, learning)
    async with consuming(consumer_settings, HOUSEHOLD) as seen:
        async with running(gateway), publisher(broker) as z2m:
            await z2m.publish("zigbee2mqtt/bedroom_motion", motion_payload(True), qos=1)
            await z2m.publish("zigbee2mqtt/front_door", b'{"contact":false}', qos=1)
            assert await poll_until(lambda: gateway.counters["events"] == 2)
            status_topic = topics.detector_status(HOUSEHOLD)
            assert await poll_until(lambda: status_topic in seen.other)
            await asyncio.sleep(0.3)
    assert detector.status(HOUSEHOLD).last_activity is not None
    assert seen.events == []
    # the home detector's learning progress leaves the home: the model, not the events
    status = DetectorStatus.model_validate_json(seen.other[status_topic][-1])
    assert (status.household, status.learned, status.usual) == (HOUSEHOLD, False, [])
    assert gateway.counters["learning_statuses"] >= 1
    everything = [payload for payloads in seen.other.values() for payload in payloads]
    assert all(b"event_id" not in payload for payload in everything)


async def test_a_restart_mid_day_keeps_the_days_counts(
    gateway_config: GatewayConfig, broker: BrokerSettings, consumer_settings: BrokerSettings
) -> None:
    clock = ManualClock(datetime.now(UTC))
    config = private(gateway_config, Sharing.SUMMARIES)
    async with consuming(consumer_settings, HOUSEHOLD) as seen:
        before = Gateway(config, clock)
        async with running(before), publisher(broker) as z2m:
            await z2m.publish("zigbee2mqtt/bedroom_motion", motion_payload(True), qos=1)
            await z2m.publish("zigbee2mqtt/kitchen/motion", motion_payload(True), qos=1)
            assert await poll_until(lambda: before.counters["events"] == 2)
        after = Gateway(config, clock)
        async with running(after), publisher(broker) as z2m:
            await z2m.publish("zigbee2mqtt/bedroom_motion", motion_payload(False), qos=1)
            assert await poll_until(lambda: after.counters["events"] == 1)
            clock.advance(timedelta(days=1))
            raw = await seen.wait_for(summaries_topic(HOUSEHOLD))
    [summary] = [DailySummary.model_validate_json(payload) for payload in raw]
    assert summary.total_events == 3
    assert {room.value: n for room, n in summary.active_by_room.items()} == {
        "bedroom": 1,
        "kitchen": 1,
    }


def test_day_counts_round_trip_through_restore() -> None:
    summaries = DailySummaries(HOUSEHOLD, "UTC")
    ts = datetime(2026, 1, 5, 9, tzinfo=UTC)
    for value, room in (("on", "kitchen"), ("off", "kitchen"), ("on", "hall")):
        summaries.add(
            Event(
                event_id=f"e{value}{room}".ljust(12, "x"),
                household=HOUSEHOLD,
                sensor="M001",
                kind="motion",
                room=room,
                value=value,
                ts=ts,
                seq=0,
            )
        )
    saved = summaries.take_dirty()
    assert summaries.take_dirty() == {}
    again = DailySummaries(HOUSEHOLD, "UTC")
    again.restore(saved)
    [done] = again.due(ts + timedelta(days=1))
    assert done.total_events == 3
    assert {room.value: n for room, n in done.active_by_room.items()} == {"kitchen": 1, "hall": 1}
