"""The live detector: MQTT in, the pure core, alerts out; ticks and checkpoints on a schedule.

Composition: `DetectorService(config, clock)` owns one `Detector`, a `StateStore` and an
APScheduler (3.x `AsyncIOScheduler`) with two interval jobs, both coroutines so they run in
the event loop beside message handling (no threads touch the core): `tick` reads the
injected clock (an `AcceleratedClock` makes one real second a simulated minute) and
`checkpoint` writes the households changed since the last one (cheap enough to run every
few seconds), and an opened alert is checkpointed before it is published. State is restored
on start and written on shutdown, so a restart (even a kill -9) loses at most the last few
seconds of learning and raises no open alert twice.

Each household's learning progress goes out as a retained `DetectorStatus` on
`dagritme/v1/<household>/detector/status` (QoS 1): after the restore on start-up, once a
local day after the midnight roll (new progress, recomputed norms), and again after a
reconnect (a broker without persistence forgets retained messages); never per event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import Counter, deque
from datetime import datetime
from pathlib import Path

import aiomqtt
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from pydantic import ValidationError

from dagritme import topics
from dagritme.clock import Clock
from dagritme.models import Alert, DetectorStatus, DeviceHealth, Event, Feedback, payload_json
from dagritme.mqtt import make_client, reconnecting
from detector.config import DetectorConfig
from detector.core import Detector
from detector.state import StateError
from detector.status import StatusTracker

logger = logging.getLogger(__name__)

SUBSCRIPTIONS = (
    topics.Channel.EVENTS,
    topics.Channel.DEVICE_HEALTH,
    topics.Channel.GATEWAY_STATUS,
    topics.Channel.FEEDBACK,
)
STATE_SUFFIX = ".state"
OUTBOX_FILE = "outbox.jsonl"
# An event stamped this far ahead of our clock would freeze its home's silence checks.


class StateStore:
    """One file per household, replaced atomically (write to a temp file, then rename)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(self, household: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{household}{STATE_SUFFIX}"
        temp = target.with_suffix(".tmp")
        with temp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        temp.replace(target)

    def save_outbox(self, alerts: list[Alert]) -> None:
        """Alerts raised but not yet published when the service stops."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / OUTBOX_FILE
        if not alerts:
            path.unlink(missing_ok=True)
            return
        temp = path.with_suffix(".tmp")
        temp.write_text("".join(alert.model_dump_json() + "\n" for alert in alerts))
        temp.replace(path)

    def load_outbox(self) -> list[Alert]:
        path = self.folder / OUTBOX_FILE
        if not path.is_file():
            return []
        alerts = []
        for line in path.read_text().splitlines():
            try:
                alerts.append(Alert.model_validate_json(line))
            except ValidationError:
                logger.warning("skipped an unreadable alert in the outbox")
        return alerts

    def load_all(self) -> dict[str, bytes]:
        if not self.folder.is_dir():
            return {}
        return {
            path.stem: path.read_bytes() for path in sorted(self.folder.glob(f"*{STATE_SUFFIX}"))
        }


def parse_gateway_status(payload: bytes) -> bool:
    """Retained status: plain `online`/`offline`, also tolerated as JSON string or {"state":...}."""
    text = payload.decode().strip().strip('"').lower()
    if text.startswith("{"):
        text = "online" if '"online"' in text else "offline" if '"offline"' in text else text
    if text not in ("online", "offline"):
        raise ValueError(f"not a gateway status: {text[:20]!r}")
    return text == "online"


class DetectorService:
    """Subscribe, feed the core, publish alerts (QoS 1), tick and checkpoint on a schedule."""

    def __init__(
        self, config: DetectorConfig, clock: Clock, detector: Detector | None = None
    ) -> None:
        self.config = config
        self.clock = clock
        self.detector = detector or Detector(config)
        self.store = StateStore(config.state_dir) if config.state_dir else None
        self.counters: Counter[str] = Counter()
        self.connected = asyncio.Event()
        self._outbox: deque[Alert] = deque()
        self._wake = asyncio.Event()
        self._outbox_saved = True  # an outbox file may exist from the previous run
        self.statuses = StatusTracker(self.detector)
        self._status_outbox: dict[str, DetectorStatus] = {}  # latest per household wins

    # ------------------------------------------------------------------ state
    def restore(self) -> int:
        """Load every checkpointed household; corrupt blobs are logged and skipped."""
        if self.store is None:
            return 0
        restored = 0
        self._outbox.extend(self.store.load_outbox())
        known = set(self.detector.households())
        for household, data in self.store.load_all().items():
            if household in known:
                continue  # the core was handed in warm (demo): its state is the newer one
            try:
                self.detector.restore(household, data)
            except StateError:
                logger.exception("state of one household could not be restored; starting fresh")
                self.counters["restore_failed"] += 1
                continue
            restored += 1
        logger.info("restored the state of %d household(s)", restored)
        return restored

    def checkpoint(self) -> int:
        """Write the households changed since the last checkpoint (each file replaced
        atomically), so it is cheap enough to run every few seconds; returns how many."""
        if self.store is None:
            return 0
        households = self.detector.take_dirty()
        for household in households:
            self.store.save(household, self.detector.snapshot(household))
        outbox = list(self._outbox)
        if outbox or self._outbox_saved:
            self.store.save_outbox(outbox)
            self._outbox_saved = bool(outbox)
        self.counters["checkpoints"] += 1
        return len(households)

    def _save_households(self, households: set[str]) -> None:
        if self.store is None:
            return
        for household in sorted(households):
            self.store.save(household, self.detector.snapshot(household))
        self.store.save_outbox(list(self._outbox))
        self._outbox_saved = True

    # ------------------------------------------------------------------ scheduled jobs
    async def tick(self) -> None:
        now = self.clock.now()
        self._emit(self.detector.tick(now))
        self.queue_statuses(now)
        self.counters["ticks"] += 1

    @property
    def statuses_unpublished(self) -> int:
        """Learning statuses queued but not yet acknowledged by the broker."""
        return len(self._status_outbox)

    def queue_statuses(self, now: datetime) -> int:
        """Queue the learning statuses that changed (after the tick rolled the day)."""
        changed = self.statuses.scan(now)
        for status in changed:
            self._status_outbox[status.household] = status
        if changed:
            self._wake.set()
        return len(changed)

    async def _checkpoint_job(self) -> None:
        self.checkpoint()

    # ------------------------------------------------------------------ messages
    def _emit(self, alerts: list[Alert]) -> None:
        if alerts:
            self._outbox.extend(alerts)
            # write ahead: the state holding the open alert reaches disk before the alert
            # leaves, so a kill -9 right after publishing cannot raise it again under a new id.
            # Only the alerting households: a full checkpoint per alert grows with the fleet.
            self._save_households({alert.household for alert in alerts})
            self._wake.set()

    def handle(self, topic: str, payload: bytes) -> None:
        """One message from the broker; bad input is counted and logged, never fatal."""
        try:
            parsed = topics.parse(topic)
            if parsed.channel is topics.Channel.EVENTS:
                event = Event.model_validate_json(payload)
                self._same_household(parsed.household, event.household)
                if (event.ts - self.clock.now()).total_seconds() > self.config.max_clock_ahead_s:
                    raise ValueError("event from the future: gateway clock skew")
                self.counters["events"] += 1
                self._emit(self.detector.observe(event))
            elif parsed.channel is topics.Channel.DEVICE_HEALTH:
                health = DeviceHealth.model_validate_json(payload)
                self._same_household(parsed.household, health.household)
                self._emit(self.detector.observe_health(health))
            elif parsed.channel is topics.Channel.GATEWAY_STATUS:
                online = parse_gateway_status(payload)
                self._emit(
                    self.detector.observe_gateway(parsed.household, online, self.clock.now())
                )
            elif parsed.channel is topics.Channel.FEEDBACK:
                feedback = Feedback.model_validate_json(payload)
                self._same_household(parsed.household, feedback.household)
                self.detector.feedback(feedback)
        except (ValidationError, ValueError, UnicodeDecodeError) as err:
            self.counters["rejected"] += 1
            logger.warning("rejected a message on %s: %s", topic, type(err).__name__)

    @staticmethod
    def _same_household(from_topic: str, from_payload: str) -> None:
        if from_topic != from_payload:
            raise ValueError("household in payload differs from topic")

    async def _publish_loop(self, client: aiomqtt.Client) -> None:
        while True:
            while self._outbox:
                alert = self._outbox[0]
                await client.publish(topics.alerts(alert.household), payload_json(alert), qos=1)
                self._outbox.popleft()  # only once the broker has it
                self.counters["alerts_published"] += 1
            while self._status_outbox and not self._outbox:  # alerts go first
                household, status = next(iter(self._status_outbox.items()))
                await client.publish(
                    topics.detector_status(household), payload_json(status), qos=1, retain=True
                )
                if self._status_outbox.get(household) is status:  # not replaced meanwhile
                    del self._status_outbox[household]
                self.counters["statuses_published"] += 1
            if self._outbox:
                continue
            self._wake.clear()
            await self._wake.wait()

    async def _session(self) -> None:
        settings = self.config.broker
        clean = False if settings.client_id else None
        async with make_client(settings, clean_session=clean) as client:
            for channel in SUBSCRIPTIONS:
                await client.subscribe(topics.subscription(channel), qos=1)
            # a broker that restarted without persistence forgot the retained statuses
            for status in self.statuses.latest():
                self._status_outbox.setdefault(status.household, status)
            publisher = asyncio.create_task(self._publish_loop(client))
            self.connected.set()
            logger.info("detector connected and subscribed")
            try:
                async for message in client.messages:
                    payload = message.payload
                    if isinstance(payload, str):
                        payload = payload.encode()
                    if not isinstance(payload, bytes | bytearray):
                        self.counters["rejected"] += 1
                        continue
                    self.handle(message.topic.value, bytes(payload))
            finally:
                self.connected.clear()
                publisher.cancel()
                with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                    await publisher

    async def run(self) -> None:
        """Run until cancelled; always checkpoints on the way out."""
        self.restore()
        self.queue_statuses(self.clock.now())
        for name in ("apscheduler.executors", "apscheduler.scheduler"):
            quiet = logging.getLogger(name)
            if quiet.level == logging.NOTSET:
                quiet.setLevel(logging.WARNING)  # it logs every tick at INFO otherwise
        scheduler = AsyncIOScheduler()
        scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.config.tick_interval_s,
            id="tick",
            max_instances=1,
            coalesce=True,
        )
        scheduler.add_job(
            self._checkpoint_job,
            "interval",
            seconds=self.config.checkpoint_interval_s,
            id="checkpoint",
            max_instances=1,
            coalesce=True,
        )
        scheduler.start()
        try:
            await reconnecting("detector", self._session)
        finally:
            scheduler.shutdown(wait=False)
            self.checkpoint()
            logger.info("detector stopped; state checkpointed")
