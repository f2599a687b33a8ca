"""The running service against real servers: mosquitto for alerts in and feedback out,
an SMTP server (aiosmtpd, see smtp.py) and a webhook receiver for notifications."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from dagritme import topics
from dagritme.clock import ManualClock
from dagritme.models import Feedback, Resolution, payload_json
from dagritme.mqtt import BrokerSettings, make_client
from dagritme.servers import free_port
from dashboard.config import DashboardConfig, HttpSettings, NotificationSettings
from dashboard.consent import ConsentAction, record_consent
from dashboard.ingest import Outcome
from dashboard.notify import add_contact, notifications
from dashboard.service import DashboardService
from tests.dashboard.conftest import PASSWORD, World, make_alert
from tests.dashboard.smtp import Inbox

pytestmark = pytest.mark.integration


def service_for(world: World, broker: BrokerSettings, tmp_path: Path) -> DashboardService:
    config = DashboardConfig(
        environment="development",
        broker=broker,
        database=tmp_path / "dashboard.sqlite3",
        http=HttpSettings(port=0),
        notifications=NotificationSettings(attempts=2, retry_delay_s=0.05),
    )
    return DashboardService(config, world.store, world.clock, db=world.db)


async def wait_for(condition: Any) -> None:
    """Poll a condition that other threads (SMTP, webhook servers) make true; 10 s at most."""
    async with asyncio.timeout(10):
        while not condition():  # noqa: ASYNC110 - set by server threads, no event to await
            await asyncio.sleep(0.05)


async def test_alert_in_notifications_out_feedback_back(
    world: World,
    broker: BrokerSettings,
    tmp_path: Path,
    smtp_inbox: Inbox,
    webhook: tuple[list[dict[str, Any]], int],
) -> None:
    hooks, hook_port = webhook
    now = world.clock.now()
    add_contact(
        world.db,
        "hh-a",
        world.ids["carer"],
        smtp_inbox.apprise_url("carer@example.org") + "&mode=insecure",
        now,
    )
    add_contact(world.db, "hh-a", world.ids["nurse"], f"json://127.0.0.1:{hook_port}/hook", now)
    # No consent: the stranger's contact must never be notified.
    add_contact(world.db, "hh-a", world.ids["stranger"], f"json://127.0.0.1:{hook_port}/x", now)
    # A contact whose endpoint is down: the failure must be visible.
    add_contact(world.db, "hh-a", world.ids["nurse"], f"json://127.0.0.1:{free_port()}/", now)

    service = service_for(world, broker, tmp_path)
    runner = asyncio.create_task(service.run())
    try:
        async with asyncio.timeout(10):
            await service.wait_started()
        base = f"http://127.0.0.1:{service.port}"
        async with make_client(broker) as mqtt:
            await mqtt.subscribe(topics.feedback("hh-a"), qos=1)
            await mqtt.publish(topics.alerts("hh-a"), payload_json(make_alert()), qos=1)
            await mqtt.publish(topics.gateway_status("hh-a"), b"offline", qos=1, retain=True)
            await mqtt.publish(topics.alerts("hh-a"), b"{not json", qos=1)

            async with httpx.AsyncClient(base_url=base) as web:
                login = await web.post(
                    "/api/v1/login", json={"username": "carer", "password": PASSWORD}
                )
                assert login.status_code == 200

                async def alerts() -> list[dict[str, Any]]:
                    response = await web.get("/api/v1/households/hh-a/alerts")
                    result: list[dict[str, Any]] = response.json()
                    return result

                seen: list[dict[str, Any]] = []

                async def poll() -> None:
                    while not seen:
                        seen.extend(await alerts())
                        await asyncio.sleep(0.05)

                await asyncio.wait_for(poll(), 10)
                assert seen[0]["alert_id"] == "alert-0001"
                await wait_for(lambda: len(smtp_inbox.mails()) == 1 and len(hooks) == 1)
                assert "Usually up by 07:40" in smtp_inbox.mails()[0].body
                assert "Usually up by 07:40" in hooks[0]["message"]

                resolved = await web.post(
                    "/api/v1/alerts/alert-0001/resolve", json={"outcome": "false_alarm"}
                )
                assert resolved.status_code == 200
                async with asyncio.timeout(10):
                    message = await anext(aiter(mqtt.messages))
                feedback = Feedback.model_validate_json(bytes(message.payload))
                assert (feedback.alert_id, feedback.resolution) == (
                    "alert-0001",
                    Resolution.FALSE_ALARM,
                )
                detail = (await web.get("/api/v1/households/hh-a")).json()
                assert detail["gateway"] == "offline"
        await service.notifier.drain()
        records = {r.contact_id: r for r in notifications(world.db, "hh-a")}
        statuses = sorted(r.status for r in records.values())
        assert statuses == ["failed", "sent", "sent"]
        failed = next(r for r in records.values() if r.status == "failed")
        assert failed.attempts == 2
        assert failed.last_error
        assert len(hooks) == 1  # the stranger got nothing
        counts = service.bridge.counters.counts
        assert counts[Outcome.NEW_ALERT] == 1
        assert counts[Outcome.REJECTED] == 1  # the broken payload, counted and logged
        assert counts[Outcome.GATEWAY_STATUS] == 1
    finally:
        service.stop()
        await asyncio.wait_for(runner, 10)


async def test_no_notification_while_paused(
    world: World, broker: BrokerSettings, tmp_path: Path, webhook: tuple[list[Any], int]
) -> None:
    hooks, hook_port = webhook
    now = world.clock.now()
    add_contact(world.db, "hh-a", world.ids["carer"], f"json://127.0.0.1:{hook_port}/", now)
    record_consent(
        world.db,
        household="hh-a",
        action=ConsentAction.PAUSE,
        recorded_by=world.ids["resident-a"],
        text_version="t",
        now=now,
        until=now + timedelta(hours=1),
    )
    service = service_for(world, broker, tmp_path)
    assert await service.notifier.notify(make_alert()) == 0
    assert isinstance(world.clock, ManualClock)
    world.clock.advance(timedelta(hours=2))
    assert await service.notifier.notify(make_alert(alert_id="alert-0002")) == 1
    await service.notifier.drain()
    assert len(hooks) == 1
