"""The running gateway: home broker in, store-and-forward queue, central broker out.

Composition root of the gateway. Two sessions run side by side, each in its own reconnect
loop: the home session (gateway.home) normalises home-broker messages, commits what must
leave the home to the queue and only then acknowledges the home broker's messages; the
upstream session (gateway.upstream) sends the queue to the central broker with QoS 1 and
deletes each row after its PUBACK. In edge mode a third task ticks the local detector and
queues the daily summaries.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

from dagritme import topics
from dagritme.clock import Clock
from dagritme.models import GatewayHeartbeat, payload_json
from dagritme.mqtt import reconnecting
from gateway.config import GatewayConfig, Sharing
from gateway.edge import (
    DailySummaries,
    LearningReporter,
    LocalDetector,
    learning_statuses,
    summaries_topic,
)
from gateway.home import HomeSession
from gateway.normaliser import Normaliser
from gateway.outbox import Outbox, OutgoingMessage
from gateway.queue_thread import Handoff, QueueThread
from gateway.upstream import UpstreamSession

logger = logging.getLogger(__name__)

# Pause before restarting a task that failed on something other than the broker connection.
FAILURE_PAUSE_S = 5.0


class Gateway:
    """One home's gateway. `await run()` until cancelled; it reconnects on its own.

    `detector` is the edge-mode hook: it sees every event, its alerts go upstream through
    the same queue; with `sharing` other than "events" raw events never leave the home.
    """

    def __init__(
        self,
        config: GatewayConfig,
        clock: Clock,
        detector: LocalDetector | None = None,
        learning: LearningReporter | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.detector = detector
        self.learning = learning  # the home detector's learning progress (edge mode)
        self.counters: Counter[str] = Counter()
        # Set once the home subscription stands: from then on the home broker keeps
        # messages for the gateway's persistent session, even across reconnects.
        self.subscribed = asyncio.Event()
        self._queue: QueueThread | None = None
        self._normaliser: Normaliser | None = None
        self._home: HomeSession | None = None
        self._upstream: UpstreamSession | None = None
        self._summaries = (
            DailySummaries(config.household, config.timezone)
            if config.sharing is Sharing.SUMMARIES
            else None
        )
        self._handoff = Handoff()
        self._heartbeat_seq = 0

    # -- lifecycle ------------------------------------------------------------------------

    async def run(self) -> None:
        config = self.config
        outbox = Outbox(
            config.queue_path, max_rows=config.queue_max_rows, synchronous=config.queue_synchronous
        )
        self._queue = queue = QueueThread(outbox)
        try:
            self._normaliser = normaliser = Normaliser(
                config.household,
                config.devices,
                self.clock,
                base_topic=config.base_topic,
                first_seq=outbox.next_seq,
                states=outbox.load_states(),
                max_payload_bytes=config.max_payload_bytes,
                max_clock_skew=timedelta(seconds=config.max_clock_skew_s),
                health_interval=timedelta(seconds=config.health_interval_s),
                health_detail=config.sharing is Sharing.EVENTS,
                source_topics=config.source_topics(),
            )
            self._home = HomeSession(
                config,
                normaliser,
                queue,
                self._handoff,
                counters=self.counters,
                subscribed=self.subscribed,
                summaries=self._summaries,
                detector=self.detector,
            )
            self._upstream = UpstreamSession(
                config,
                queue,
                self._handoff,
                counters=self.counters,
                next_heartbeat=self._next_heartbeat,
            )
            logger.info(
                "gateway for %s starting: %d device(s), sharing=%s, %d queued",
                config.household,
                len(config.devices),
                config.sharing.value,
                outbox.count,
            )
            async with asyncio.TaskGroup() as group:
                group.create_task(self._supervised("home broker", self._home.run))
                group.create_task(self._supervised("central broker", self._upstream.run))
                if self.detector is not None or self._summaries is not None:
                    group.create_task(self._supervised("edge ticks", self._tick_loop))
        finally:
            queue.shutdown()
            outbox.close()
            self._queue = None

    async def _supervised(self, name: str, session: Callable[[], Awaitable[None]]) -> None:
        while True:
            try:
                await reconnecting(
                    f"{self.config.household} {name}",
                    session,
                    max_backoff_s=self.config.reconnect_max_backoff_s,
                )
                return
            except Exception:
                logger.exception("%s: %s failed; restarting", self.config.household, name)
                await asyncio.sleep(FAILURE_PAUSE_S)

    @property
    def outbox(self) -> Outbox:
        if self._queue is None:
            raise RuntimeError("the gateway is not running")
        return self._queue.outbox

    @property
    def normaliser(self) -> Normaliser:
        if self._normaliser is None:
            raise RuntimeError("the gateway is not running")
        return self._normaliser

    @property
    def home_connected(self) -> bool:
        return self._home is not None and self._home.connected

    @property
    def central_connected(self) -> bool:
        return self._upstream is not None and self._upstream.connected

    # -- edge mode ------------------------------------------------------------------------

    async def _tick_loop(self) -> None:
        household = self.config.household
        queue = self._queue
        if queue is None:
            raise RuntimeError("the gateway is not running")
        while True:
            await asyncio.sleep(self.config.tick_interval_s)
            now = self.clock.now()
            outgoing: list[OutgoingMessage] = []
            if self.detector is not None:
                outgoing += [
                    OutgoingMessage(topics.alerts(household), payload_json(alert))
                    for alert in self.detector.tick(now)
                ]
            if self.learning is not None:
                for status in learning_statuses(self.learning, household, self.config.sharing, now):
                    self._handoff.learning(status)
            finished: list[date] = []
            if self._summaries is not None:
                for summary in self._summaries.due(now):
                    outgoing.append(
                        OutgoingMessage(summaries_topic(household), payload_json(summary))
                    )
                    finished.append(summary.day)
            if outgoing:
                # A summary is queued in the transaction that forgets its day's counts.
                await queue.call(
                    functools.partial(queue.outbox.commit, outgoing, finished_days=finished)
                )
                self._handoff.queued()

    # -- heartbeats -----------------------------------------------------------------------

    def heartbeat(self) -> GatewayHeartbeat:
        normaliser = self.normaliser
        counters: dict[str, int] = {
            f"rejected_{reason}": number
            for reason, number in normaliser.rejects.by_reason().items()
        }
        counters.update(self.counters)
        counters["dropped"] = self.outbox.dropped
        counters["unknown_devices"] = len(normaliser.unknown_devices)
        counters["home_connected"] = int(self.home_connected)
        skew = normaliser.last_clock_skew_s
        return GatewayHeartbeat(
            household=self.config.household,
            ts=self.clock.now(),
            seq=self._heartbeat_seq,
            queued=self.outbox.count,
            clock_skew_s=round(skew, 3) if skew is not None else None,
            counters=counters,
        )

    def _next_heartbeat(self) -> GatewayHeartbeat:
        beat = self.heartbeat()
        self._heartbeat_seq += 1
        return beat
