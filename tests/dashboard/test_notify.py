"""Notifications to a real webhook receiver: the escalation chain and the contacts API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dagritme.models import Resolution
from dashboard.alert_store import acknowledge, resolve, upsert_alert
from dashboard.config import NotificationSettings
from dashboard.escalation import escalate
from dashboard.notify import Notifier, add_contact
from dashboard.summary import send_daily_summaries
from tests.dashboard.conftest import START, World, login, make_alert, make_events

pytestmark = pytest.mark.integration

AFTER = timedelta(minutes=15)


def chain(world: World, port: int) -> Notifier:
    now = world.clock.now()
    add_contact(world.db, "hh-a", world.ids["carer"], f"json://127.0.0.1:{port}/carer", now, 0)
    add_contact(world.db, "hh-a", world.ids["nurse"], f"json://127.0.0.1:{port}/nurse", now, 1)
    settings = NotificationSettings(attempts=1, retry_delay_s=0)
    return Notifier(settings, world.db, world.clock)


async def test_unacknowledged_alert_escalates_to_the_next_contact(
    world: World, webhook: tuple[list[dict[str, Any]], int]
) -> None:
    hooks, port = webhook
    notifier = chain(world, port)
    alert = make_alert()
    upsert_alert(world.db, alert, START)
    assert await notifier.notify(alert) == 1
    await notifier.drain()
    assert [h["_path"] for h in hooks] == ["/carer"]

    world.clock.advance(timedelta(minutes=5))
    assert await escalate(notifier, world.db, world.clock.now(), AFTER) == 0
    world.clock.advance(timedelta(minutes=11))
    assert await escalate(notifier, world.db, world.clock.now(), AFTER) == 1
    await notifier.drain()
    assert [h["_path"] for h in hooks] == ["/carer", "/nurse"]
    world.clock.advance(timedelta(minutes=30))
    assert await escalate(notifier, world.db, world.clock.now(), AFTER) == 0  # end of chain


async def test_acknowledged_alert_does_not_escalate(
    world: World, webhook: tuple[list[dict[str, Any]], int]
) -> None:
    hooks, port = webhook
    notifier = chain(world, port)
    alert = make_alert()
    upsert_alert(world.db, alert, START)
    await notifier.notify(alert)
    await notifier.drain()
    acknowledge(world.db, alert.alert_id, "carer", "on my way", world.clock.now())
    world.clock.advance(timedelta(hours=1))
    assert await escalate(notifier, world.db, world.clock.now(), AFTER) == 0
    assert len(hooks) == 1


def test_contacts_api_redacts_and_checks_consent(app_client: TestClient) -> None:
    login(app_client, "resident-a")
    url = "/api/v1/households/hh-a/contacts"
    created = app_client.post(
        url, json={"username": "carer", "apprise_url": "ntfys://user:secret@ntfy.example/topic"}
    )
    assert created.status_code == 201
    assert created.json()["target"] == "ntfys://ntfy.example/…"
    assert created.json()["notified"] is True
    stranger = app_client.post(
        url, json={"username": "stranger", "apprise_url": "json://127.0.0.1:9/x"}
    )
    assert stranger.json()["notified"] is False
    bad = app_client.post(url, json={"username": "carer", "apprise_url": "nonsense"})
    assert bad.status_code == 422
    listed = app_client.get(url).json()
    assert "secret" not in str(listed)
    assert app_client.get("/api/v1/households/hh-a/notifications").json() == []


async def test_daily_all_is_well_summary(
    world: World, webhook: tuple[list[dict[str, Any]], int]
) -> None:
    hooks, port = webhook
    add_contact(world.db, "hh-a", world.ids["carer"], f"json://127.0.0.1:{port}/c", START)
    notifier = Notifier(NotificationSettings(attempts=1), world.db, world.clock)
    world.store.write(make_events("hh-a", START.replace(hour=0), 1))
    upsert_alert(world.db, make_alert(ts=START), START)  # urgent, still open

    async def tick() -> int:
        return await send_daily_summaries(
            notifier, world.db, world.store, world.clock.now(), hour=20
        )

    assert await tick() == 0  # 10:15 local: too early
    world.clock.set(START.replace(hour=19, minute=30))  # 20:30 in Amsterdam
    assert await tick() == 0  # an urgent alert is open: not "all is well"
    resolve(world.db, "alert-0001", "carer", Resolution.FALSE_ALARM, "", world.clock.now())
    assert await tick() == 1
    assert await tick() == 0  # once a day
    await notifier.drain()
    assert len(hooks) == 1
    assert hooks[0]["title"] == "All is well today"
    assert "First activity at 09:00" in hooks[0]["message"]
