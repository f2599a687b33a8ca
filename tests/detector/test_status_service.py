"""The live service publishes each household's learning status, retained, to a real mosquitto."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import time, timedelta
from pathlib import Path

import aiomqtt
import pytest

from dagritme import topics
from dagritme.clock import ManualClock
from dagritme.models import DetectorStatus, payload_json
from dagritme.mqtt import BrokerSettings, make_client
from detector.config import DetectorConfig
from detector.service import DetectorService
from tests.detector.helpers import HOUSEHOLD, local, warmed_up

pytestmark = pytest.mark.integration


async def until(condition: Callable[[], bool], within_s: float = 10) -> None:
    """Poll counters that the service's own tasks move (they have no event to await)."""
    async with asyncio.timeout(within_s):
        while not condition():  # noqa: ASYNC110 - counters, not events
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running(service: DetectorService) -> AsyncIterator[None]:
    task = asyncio.create_task(service.run())
    try:
        await asyncio.wait_for(service.connected.wait(), 10)
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def next_status(client: aiomqtt.Client, within_s: float = 10) -> tuple[DetectorStatus, bool]:
    async with asyncio.timeout(within_s):
        async for message in client.messages:
            assert isinstance(message.payload, bytes)
            assert str(message.topic) == topics.detector_status(HOUSEHOLD)
            return DetectorStatus.model_validate_json(message.payload), message.retain
    raise AssertionError("no status")


async def test_retained_status_reaches_a_late_subscriber_and_rises_with_days(
    broker: BrokerSettings, tmp_path: Path
) -> None:
    config = DetectorConfig(
        broker=broker, tick_interval_s=0.1, checkpoint_interval_s=60, state_dir=tmp_path
    )
    detector, home, day, _ = warmed_up(days=3)
    clock = ManualClock(local(day, time(23, 59)))  # the day's events are not from the future
    service = DetectorService(config, clock, detector=detector)
    async with running(service):
        # the first tick rolls the warmed-up home into `day`
        await until(lambda: service.counters["ticks"] >= 1 and not service.statuses_unpublished)
        published = service.counters["statuses_published"]
        assert published >= 1
        # subscribed only now: what it gets first is the retained status
        async with make_client(broker) as late:
            await late.subscribe(topics.detector_status(HOUSEHOLD), qos=1)
            first, retained = await next_status(late)
            assert retained
            assert not first.learned
            assert first.usual == []
            assert 0 < first.learning_days_seen < first.learning_days_needed

        async with make_client(broker) as watcher, make_client(broker) as gateway:
            await watcher.subscribe(topics.detector_status(HOUSEHOLD), qos=1)
            await next_status(watcher)  # the retained one again
            events = home.day_events(day)
            for event in events:
                await gateway.publish(topics.events(HOUSEHOLD), payload_json(event), qos=1)
            await until(lambda: service.counters["events"] == len(events))
            ticks = service.counters["ticks"]
            await until(lambda: service.counters["ticks"] >= ticks + 3)
            assert service.counters["statuses_published"] == published, "not per event or tick"
            clock.set(local(day + timedelta(days=1), time(0, 10)))
            second, _ = await next_status(watcher)
            assert second.learning_days_seen == first.learning_days_seen + 1
            assert second.ts == clock.now()

    # a restart publishes the restored household's status again
    restarted = DetectorService(config, ManualClock(clock.now() + timedelta(minutes=1)))
    async with running(restarted), make_client(broker) as late:
        await late.subscribe(topics.detector_status(HOUSEHOLD), qos=1)
        await until(lambda: restarted.counters["statuses_published"] >= 1)
        again, _ = await next_status(late)
        assert again.learning_days_seen == second.learning_days_seen
        assert again.ts > second.ts
