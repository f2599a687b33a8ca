"""Feedback waiting for the broker survives a dashboard restart (the outbox is in SQLite)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dagritme import topics
from dagritme.models import AlertType, Feedback, Resolution
from dagritme.mqtt import BrokerSettings, make_client
from dashboard.alert_store import upsert_alert
from dashboard.config import DashboardConfig, HttpSettings
from dashboard.db import Database
from dashboard.publisher import FeedbackQueue
from dashboard.service import DashboardService
from tests.dashboard.conftest import START, World, login, make_alert


def _feedback(alert_id: str) -> Feedback:
    return Feedback(
        household="hh-a",
        alert_id=alert_id,
        type=AlertType.NOT_UP,
        resolution=Resolution.FALSE_ALARM,
        ts=START,
    )


def test_queue_is_durable_and_ordered(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.sqlite3"
    first = Database(path)
    queue = FeedbackQueue(first)
    queue.publish(_feedback("alert-1"))
    queue.publish(_feedback("alert-2"))
    first.close()

    reopened = FeedbackQueue(Database(path))
    assert len(reopened) == 2
    oldest = reopened.peek()
    assert oldest is not None
    assert oldest.feedback == _feedback("alert-1")
    assert reopened.peek() == oldest  # peeking does not consume
    reopened.remove(oldest.id)
    following = reopened.peek()
    assert following is not None
    assert following.feedback.alert_id == "alert-2"
    reopened.remove(following.id)
    assert reopened.peek() is None
    assert len(reopened) == 0


@pytest.mark.integration
async def test_feedback_recorded_before_a_restart_reaches_the_detector(
    world: World, app_client: TestClient, broker: BrokerSettings, tmp_path: Path
) -> None:
    # The resolution is made while the service's broker session is not running ...
    upsert_alert(world.db, make_alert(), START)
    login(app_client, "carer")
    resolved = app_client.post(
        "/api/v1/alerts/alert-0001/resolve", json={"outcome": "true_alarm", "note": ""}
    )
    assert resolved.status_code == 200
    assert len(world.publisher) == 1
    world.db.close()  # ... and the dashboard stops before it could publish it.

    db = Database(world.config.database)
    config = DashboardConfig(
        environment="development",
        broker=broker.model_copy(update={"client_id": "dashboard-restarted"}),
        database=world.config.database,
        http=HttpSettings(port=0),
    )
    service = DashboardService(config, world.store, world.clock, db=db)
    async with make_client(broker) as detector:
        await detector.subscribe(topics.feedback("hh-a"), qos=1)
        runner = asyncio.create_task(service.run())
        try:
            async with asyncio.timeout(10):
                message = await anext(aiter(detector.messages))
            feedback = Feedback.model_validate_json(bytes(message.payload))
            assert (feedback.alert_id, feedback.resolution) == ("alert-0001", Resolution.TRUE_ALARM)
            async with asyncio.timeout(5):
                while len(service.feedback):  # noqa: ASYNC110 - removed by a worker thread
                    await asyncio.sleep(0.02)
        finally:
            service.stop()
            await asyncio.wait_for(runner, 10)
            db.close()
