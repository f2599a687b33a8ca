"""The home side: home-broker messages in, normalised, committed to the queue, acknowledged.

A persistent session (clean_session=False) with manual acknowledgements: what must leave
the home is committed to the queue first and the home broker's messages are acknowledged
only then, so a crash in between means redelivery, which the persisted device states
recognise as nothing new.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import Counter

import aiomqtt

from dagritme import topics
from dagritme.models import DeviceHealth, Event, payload_json
from dagritme.mqtt import acknowledge, make_client
from gateway import sources
from gateway.client_tuning import disable_nagle, take_queued
from gateway.config import GatewayConfig, Sharing
from gateway.edge import DailySummaries, LocalDetector
from gateway.normaliser import Normaliser
from gateway.outbox import OutgoingMessage
from gateway.queue_thread import Handoff, QueueThread
from gateway.sources.z2m import subscription

logger = logging.getLogger(__name__)

# Home-broker messages committed to the queue in one transaction at most.
MAX_INGEST_BATCH = 2_000
# How long the first message of a batch waits for others to share its commit (and fsync).
COMMIT_LINGER_S = 0.002


class HomeSession:
    """One connection to the home broker at a time; `run()` is one session."""

    def __init__(
        self,
        config: GatewayConfig,
        normaliser: Normaliser,
        queue: QueueThread,
        handoff: Handoff,
        *,
        counters: Counter[str],
        subscribed: asyncio.Event,
        summaries: DailySummaries | None,
        detector: LocalDetector | None,
    ) -> None:
        self.config = config
        self.normaliser = normaliser
        self.queue = queue
        self.handoff = handoff
        self.counters = counters
        self.subscribed = subscribed
        self.summaries = summaries
        self.detector = detector
        self.connected = False

    async def run(self) -> None:
        client = make_client(self.config.home_client(), clean_session=False, manual_ack=True)
        outbox = self.queue.outbox
        # The queue is the truth about device states (also after a failed commit).
        states = await self.queue.call(outbox.load_states)
        self.normaliser.restore(states, outbox.next_seq)
        if self.summaries is not None:
            # Likewise the open days' counts: events of unacknowledged messages come again.
            self.summaries.restore(await self.queue.call(outbox.load_day_counts))
        async with client:
            disable_nagle(client)
            await client.subscribe([(topic_filter, 1) for topic_filter in self.filters()])
            self.connected = True
            self.subscribed.set()
            logger.info("%s: connected to the home broker", self.config.household)
            try:
                await self._ingest(client)
            finally:
                self.connected = False

    def filters(self) -> list[str]:
        config = self.config
        return [subscription(config.base_topic)] + sources.subscriptions(
            ((device.source, device.friendly_name) for device in config.devices),
            config.source_topics(),
        )

    async def _ingest(self, client: aiomqtt.Client) -> None:
        loop = asyncio.get_running_loop()
        incoming = aiter(client.messages)
        unacked: list[aiomqtt.Message] = []
        outgoing: list[OutgoingMessage] = []
        # The next message, awaited but never cancelled while the session lasts: cancelling
        # aiomqtt's iterator just as it took a message from its queue would lose that message.
        upcoming: asyncio.Future[aiomqtt.Message] | None = None
        try:
            while True:
                if upcoming is None:
                    upcoming = asyncio.ensure_future(anext(incoming))
                await asyncio.wait({upcoming})
                # Group commit: one transaction (one fsync) for what arrives within the
                # linger, instead of one per message when the gateway keeps up.
                deadline = loop.time() + COMMIT_LINGER_S
                while upcoming is not None and upcoming.done():
                    first, upcoming = upcoming.result(), None
                    for message in (first, *take_queued(client)):
                        outgoing.extend(self._normalise_message(message))
                        unacked.append(message)
                    remaining = deadline - loop.time()
                    if remaining > 0 and len(unacked) < MAX_INGEST_BATCH:
                        upcoming = asyncio.ensure_future(anext(incoming))
                        await asyncio.wait({upcoming}, timeout=remaining)
                # Handed over before the await: a cancelled commit still completes on the
                # queue thread, and `finally` must not queue the same batch again.
                batch, unacked, queued, outgoing = unacked, [], outgoing, []
                await self._commit_and_ack(client, batch, queued)
        finally:
            if upcoming is not None:
                upcoming.cancel()
            if unacked:
                # Connection lost or stopping: keep what was normalised; the broker redelivers
                # the unacknowledged messages and they add nothing twice.
                await self._commit(outgoing)

    def _normalise_message(self, message: aiomqtt.Message) -> list[OutgoingMessage]:
        payload = message.payload
        raw = bytes(payload) if isinstance(payload, bytes | bytearray) else str(payload).encode()
        return self._normalise(message.topic.value, raw, message.retain)

    async def _commit_and_ack(
        self,
        client: aiomqtt.Client,
        messages: list[aiomqtt.Message],
        outgoing: list[OutgoingMessage],
    ) -> None:
        # Committed first, acknowledged after: a crash in between means redelivery.
        await self._commit(outgoing)
        for message in messages:
            acknowledge(client, message.mid, message.qos)
        self.counters["home_messages"] += len(messages)

    def _normalise(self, topic: str, payload: bytes, retained: bool) -> list[OutgoingMessage]:
        household = self.config.household
        outgoing: list[OutgoingMessage] = []
        for output in self.normaliser.handle(topic, payload, retained):
            if isinstance(output, DeviceHealth):
                self.handoff.health(output)
                continue
            self.counters["events"] += 1
            if self.config.sharing is Sharing.EVENTS:
                outgoing.append(OutgoingMessage(topics.events(household), payload_json(output)))
            if self.summaries is not None:
                self.summaries.add(output)
            outgoing.extend(self._observe(output))
        return outgoing

    def _observe(self, event: Event) -> list[OutgoingMessage]:
        if self.detector is None:
            return []
        topic = topics.alerts(self.config.household)
        return [
            OutgoingMessage(topic, payload_json(alert)) for alert in self.detector.observe(event)
        ]

    async def _commit(self, outgoing: list[OutgoingMessage]) -> None:
        normaliser = self.normaliser
        await self.queue.call(
            functools.partial(
                self.queue.outbox.commit,
                outgoing,
                normaliser.take_dirty_states(),
                normaliser.next_seq,
                day_counts=self.summaries.take_dirty() if self.summaries is not None else None,
            )
        )
        if outgoing:
            self.handoff.queued()
