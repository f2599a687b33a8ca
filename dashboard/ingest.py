"""Alerts, device health, gateway and detector status from the broker into the dashboard DB.

`handle_message` is the pure-ish core (topic and payload in, database updated, outcome
out); `BrokerBridge` is the thin aiomqtt session around it that also publishes feedback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum

import aiomqtt
from pydantic import ValidationError

from dagritme import topics
from dagritme.clock import Clock
from dagritme.models import (
    Alert,
    DetectorStatus,
    DeviceHealth,
    Event,
    GatewayHeartbeat,
    payload_json,
)
from dagritme.mqtt import BrokerSettings, make_client, reconnecting
from dashboard.alert_store import set_gateway_status, upsert_alert, upsert_device_health
from dashboard.db import Database
from dashboard.detector_status import clear_detector_status, store_detector_status
from dashboard.freshness import FreshnessTracker
from dashboard.publisher import FeedbackQueue

logger = logging.getLogger(__name__)

SUBSCRIPTIONS = (
    topics.Channel.ALERTS,
    topics.Channel.DEVICE_HEALTH,
    topics.Channel.GATEWAY_STATUS,
    topics.Channel.DETECTOR_STATUS,
)
# Only watched for freshness, at QoS 0: the broker queues none of them for the dashboard's
# persistent session while it is down, and a lost one is replaced by the next.
FRESHNESS_SUBSCRIPTIONS = (topics.Channel.EVENTS, topics.Channel.GATEWAY_HEARTBEAT)
FRESHNESS_SUFFIXES = tuple(f"/{channel.value}" for channel in FRESHNESS_SUBSCRIPTIONS)
GATEWAY_WORDS = frozenset({"online", "offline"})


class Outcome(StrEnum):
    NEW_ALERT = "new_alert"
    UPDATED_ALERT = "updated_alert"
    DEVICE_HEALTH = "device_health"
    GATEWAY_STATUS = "gateway_status"
    DETECTOR_STATUS = "detector_status"
    EVENT = "event"
    HEARTBEAT = "heartbeat"
    REJECTED = "rejected"
    IGNORED = "ignored"


@dataclass
class IngestCounters:
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome] += 1


@dataclass(frozen=True, slots=True)
class Handled:
    outcome: Outcome
    alert: Alert | None = None


def handle_message(db: Database, clock: Clock, topic: str, payload: bytes) -> Handled:
    """Store one broker message; bad input is rejected with a log line, never a crash."""
    try:
        parsed = topics.parse(topic)
    except topics.TopicError:
        return Handled(Outcome.IGNORED)
    try:
        if parsed.channel is topics.Channel.ALERTS:
            alert = Alert.model_validate_json(payload)
            if alert.household != parsed.household:
                raise ValueError("household in payload differs from the topic")
            new = upsert_alert(db, alert, clock.now())
            return Handled(Outcome.NEW_ALERT if new else Outcome.UPDATED_ALERT, alert)
        if parsed.channel is topics.Channel.DEVICE_HEALTH:
            health = DeviceHealth.model_validate_json(payload)
            if health.household != parsed.household or health.sensor != parsed.sensor:
                raise ValueError("household or sensor in payload differs from the topic")
            upsert_device_health(db, health)
            return Handled(Outcome.DEVICE_HEALTH)
        if parsed.channel is topics.Channel.GATEWAY_STATUS:
            word = payload.decode("utf-8", errors="replace").strip().strip('"').lower()
            if word not in GATEWAY_WORDS:
                raise ValueError("gateway status is neither online nor offline")
            set_gateway_status(db, parsed.household, word, clock.now())
            return Handled(Outcome.GATEWAY_STATUS)
        if parsed.channel is topics.Channel.DETECTOR_STATUS:
            if not payload:  # the retained status was cleared on the broker
                clear_detector_status(db, parsed.household)
                return Handled(Outcome.DETECTOR_STATUS)
            status = DetectorStatus.model_validate_json(payload)
            if status.household != parsed.household:
                raise ValueError("household in payload differs from the topic")
            kept = store_detector_status(db, status)
            return Handled(Outcome.DETECTOR_STATUS if kept else Outcome.IGNORED)
    except (ValidationError, ValueError) as err:
        logger.warning("rejected %s message: %s", parsed.channel.value, _short(err))
        return Handled(Outcome.REJECTED)
    return Handled(Outcome.IGNORED)


def observe_freshness(tracker: FreshnessTracker, topic: str, payload: bytes) -> Outcome:
    """Note the time of an event or heartbeat (memory only: cheap enough for the loop)."""
    try:
        parsed = topics.parse(topic)
    except topics.TopicError:
        return Outcome.IGNORED
    try:
        if parsed.channel is topics.Channel.EVENTS:
            event = Event.model_validate_json(payload)
            if event.household != parsed.household:
                raise ValueError("household in payload differs from the topic")
            tracker.observe_event(event.household, event.ts)
            return Outcome.EVENT
        if parsed.channel is topics.Channel.GATEWAY_HEARTBEAT:
            beat = GatewayHeartbeat.model_validate_json(payload)
            if beat.household != parsed.household:
                raise ValueError("household in payload differs from the topic")
            tracker.observe_heartbeat(beat.household, beat.ts)
            return Outcome.HEARTBEAT
    except (ValidationError, ValueError) as err:
        logger.warning("rejected %s message: %s", parsed.channel.value, _short(err))
        return Outcome.REJECTED
    return Outcome.IGNORED


def _short(err: Exception) -> str:
    text = str(err).splitlines()
    return text[0] if text else type(err).__name__


AlertHook = Callable[[Alert], Awaitable[None]]


class BrokerBridge:
    """One broker session: subscribe QoS 1 and ingest; publish queued feedback QoS 1."""

    def __init__(
        self,
        settings: BrokerSettings,
        db: Database,
        clock: Clock,
        feedback: FeedbackQueue,
        on_new_alert: AlertHook | None = None,
        freshness_flush_s: float = 1.0,
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.feedback = feedback
        self.on_new_alert = on_new_alert
        self.counters = IngestCounters()
        self.freshness = FreshnessTracker()
        self.freshness_flush_s = freshness_flush_s
        self.subscribed = asyncio.Event()

    async def run(self) -> None:
        await reconnecting("dashboard ingest", self._session)

    async def _session(self) -> None:
        ready = self.feedback.bind(asyncio.get_running_loop())
        # A persistent session (client id, clean_session False) keeps QoS 1 alerts queued in
        # the broker while the dashboard restarts.
        clean = self.settings.client_id is None
        async with make_client(self.settings, clean_session=clean) as client:
            for channel in SUBSCRIPTIONS:
                await client.subscribe(topics.subscription(channel), qos=1)
            for channel in FRESHNESS_SUBSCRIPTIONS:
                await client.subscribe(topics.subscription(channel), qos=0)
            self.subscribed.set()
            async with asyncio.TaskGroup() as group:
                group.create_task(self._publish_feedback(client, ready))
                group.create_task(self._flush_freshness())
                async for message in client.messages:
                    await self._ingest(str(message.topic), _payload_bytes(message.payload))

    async def _flush_freshness(self) -> None:
        try:
            while True:
                await asyncio.sleep(self.freshness_flush_s)
                await asyncio.to_thread(self.freshness.flush, self.db)
        finally:
            # Also on the way out (restart, reconnect): what was seen is not lost.
            self.freshness.flush(self.db)

    async def _ingest(self, topic: str, payload: bytes) -> None:
        if topic.endswith(FRESHNESS_SUFFIXES):
            self.counters.add(observe_freshness(self.freshness, topic, payload))
            return
        handled = await asyncio.to_thread(handle_message, self.db, self.clock, topic, payload)
        self.counters.add(handled.outcome)
        if handled.outcome is Outcome.NEW_ALERT and handled.alert and self.on_new_alert:
            try:
                await self.on_new_alert(handled.alert)
            except Exception:  # noqa: BLE001 - a failing notifier must not stop ingest
                logger.exception("notifying about a new alert failed")

    async def _publish_feedback(self, client: aiomqtt.Client, ready: asyncio.Event) -> None:
        while True:
            await ready.wait()
            ready.clear()
            while (pending := await asyncio.to_thread(self.feedback.peek)) is not None:
                item = pending.feedback
                # An MqttError ends the session; the entry stays queued for the next one.
                await client.publish(topics.feedback(item.household), payload_json(item), qos=1)
                await asyncio.to_thread(self.feedback.remove, pending.id)


def _payload_bytes(payload: object) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    if isinstance(payload, str):
        return payload.encode()
    return str(payload).encode()
