"""A household whose data stops arriving does not stay green."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dagritme import topics
from dagritme.models import GatewayHeartbeat, Severity, payload_json
from dagritme.mqtt import BrokerSettings, make_client
from dashboard.config import DashboardConfig, FreshnessSettings, HttpSettings
from dashboard.freshness import Freshness, FreshnessTracker, load_freshness, no_data_since
from dashboard.service import DashboardService
from dashboard.status import Light, traffic_light
from tests.dashboard.conftest import START, World, login, make_events

SETTINGS = FreshnessSettings(event_hours=12, heartbeat_minutes=10, missed_heartbeats=3)
CREATED = START - timedelta(days=30)


def test_events_stopping_is_no_data_since_the_last_one() -> None:
    last = START - timedelta(hours=13)
    stopped = no_data_since(Freshness(last_event=last), CREATED, START, SETTINGS)
    assert stopped is not None
    assert stopped.since == last
    assert (
        no_data_since(Freshness(last_event=START - timedelta(hours=11)), CREATED, START, SETTINGS)
        is None
    )


def test_a_new_household_gets_its_bound_before_it_is_flagged() -> None:
    assert no_data_since(None, START - timedelta(hours=2), START, SETTINGS) is None
    never = no_data_since(None, START - timedelta(hours=13), START, SETTINGS)
    assert never is not None
    assert never.since is None  # "no data received yet"


def test_heartbeats_stopping_uses_the_gateways_own_interval() -> None:
    event = START - timedelta(hours=1)
    beat = START - timedelta(minutes=11)
    per_minute = Freshness(event, beat, heartbeat_gap_s=60)
    stopped = no_data_since(per_minute, CREATED, START, SETTINGS)
    assert stopped is not None
    assert stopped.since == beat  # the newest data seen
    # A gateway (or an accelerated clock) with heartbeats an hour apart is not an outage yet.
    hourly = Freshness(event, START - timedelta(minutes=50), heartbeat_gap_s=3600)
    assert no_data_since(hourly, CREATED, START, SETTINGS) is None
    assert (
        no_data_since(per_minute, CREATED, START, SETTINGS.model_copy(update={"enabled": False}))
        is None
    )
    # One heartbeat only: its interval is unknown, so it cannot be "late" yet.
    single = Freshness(event, START - timedelta(hours=2))
    assert no_data_since(single, CREATED, START, SETTINGS) is None
    unchecked = SETTINGS.model_copy(update={"heartbeat_minutes": None})
    assert no_data_since(per_minute, CREATED, START, unchecked) is None


def test_light_precedence_with_stopped_data() -> None:
    assert traffic_light(None, True, paused=False, no_data=True) is Light.NO_DATA
    assert traffic_light(None, False, paused=False, no_data=True) is Light.NO_DATA
    assert traffic_light(Severity.WARNING, True, paused=False, no_data=True) is Light.AMBER
    assert traffic_light(Severity.URGENT, True, paused=False, no_data=True) is Light.RED
    assert traffic_light(None, True, paused=True, no_data=True) is Light.GREY


def test_tracker_keeps_the_newest_times_across_flushes(world: World) -> None:
    tracker = FreshnessTracker()
    tracker.observe_event("hh-a", START)
    tracker.observe_event("hh-a", START - timedelta(minutes=5))  # late, out of order
    tracker.observe_heartbeat("hh-a", START)
    tracker.observe_heartbeat("hh-a", START + timedelta(seconds=60))
    assert tracker.flush(world.db) == 1
    assert tracker.flush(world.db) == 0  # nothing changed since
    restarted = FreshnessTracker()  # a restart: memory is empty, the table is not
    restarted.observe_event("hh-a", START - timedelta(hours=1))
    restarted.observe_heartbeat("hh-a", START + timedelta(seconds=120))
    restarted.flush(world.db)
    stored = load_freshness(world.db)["hh-a"]
    assert stored.last_event == START
    assert stored.last_heartbeat == START + timedelta(seconds=120)
    assert stored.heartbeat_gap_s == 60  # kept: the restarted tracker saw one beat only


@pytest.mark.integration
async def test_stopped_household_shows_no_data_in_api_and_overview(
    world: World, app_client: TestClient, broker: BrokerSettings, tmp_path: Path
) -> None:
    config = DashboardConfig(
        environment="development",
        broker=broker,
        database=tmp_path / "dashboard.sqlite3",
        http=HttpSettings(port=0),
        freshness=FreshnessSettings(flush_s=0.05),
    )
    service = DashboardService(config, world.store, world.clock, db=world.db)
    runner = asyncio.create_task(service.run())
    try:
        async with asyncio.timeout(10):
            await service.wait_started()
        event = make_events("hh-a", START - timedelta(hours=1), 1)[0]
        async with make_client(broker) as mqtt:
            await mqtt.publish(topics.events("hh-a"), payload_json(event), qos=1)
            for seq in range(2):
                beat = GatewayHeartbeat(
                    household="hh-a", ts=START + timedelta(seconds=60 * seq), seq=seq, queued=0
                )
                await mqtt.publish(topics.gateway_heartbeat("hh-a"), payload_json(beat), qos=1)
        async with asyncio.timeout(10):
            while "hh-a" not in load_freshness(world.db) or (  # noqa: ASYNC110
                load_freshness(world.db)["hh-a"].heartbeat_gap_s is None
            ):
                await asyncio.sleep(0.05)
    finally:
        service.stop()
        await asyncio.wait_for(runner, 10)

    login(app_client, "nurse")
    world.clock.set(START + timedelta(minutes=5))
    fresh = app_client.get("/api/v1/households").json()
    assert {r["id"]: r["status"] for r in fresh} == {"hh-a": "green", "hh-b": "green"}

    world.clock.set(START + timedelta(minutes=20))  # heartbeats a minute apart stopped
    rows = {r["id"]: r for r in app_client.get("/api/v1/households").json()}
    assert rows["hh-a"]["status"] == "no_data"
    since = datetime.fromisoformat(rows["hh-a"]["no_data_since"])
    assert since == START + timedelta(seconds=60)  # the last heartbeat, the newest data
    assert rows["hh-b"]["status"] == "green"  # created at START: within its 12 h
    detail = app_client.get("/api/v1/households/hh-a").json()
    assert (detail["status"], detail["no_data"]) == ("no_data", True)
    page = app_client.get("/").text
    assert "No data since 02-03 10:16" in page  # 09:16 UTC in Amsterdam
    household_page = app_client.get("/households/hh-a").text
    assert "No data since 02-03 10:16." in household_page
    login(app_client, "resident-a")
    assert "Nothing has arrived from your home since 02-03 10:16" in app_client.get("/me").text
