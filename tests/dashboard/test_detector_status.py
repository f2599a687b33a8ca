"""The detector's learning status: ingested (latest wins), shown by the API and the page,
exported and erased; an estimate, labelled as such, until the detector has reported."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import zipfile
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from dagritme import topics
from dagritme.models import DetectorStatus, payload_json
from dagritme.mqtt import BrokerSettings, make_client
from dashboard.detector_status import get_detector_status
from dashboard.ingest import BrokerBridge, Outcome, handle_message
from tests.dashboard.conftest import START, World, login, make_events
from tests.dashboard.test_pages import form_login

TOPIC = topics.detector_status("hh-a")
USUAL = [
    "Usually up by 07:40, on 19 of the last 20 weekdays",
    "Outings usually last up to 1 h 45 min",
]


def status(days: int = 4, household: str = "hh-a", **changes: object) -> DetectorStatus:
    fields: dict[str, object] = {
        "household": household,
        "ts": START - timedelta(hours=9),
        "learning_days_seen": days,
        "learning_days_needed": 7,
        "progress": days / 7,
        "learned": days >= 7,
        "usual": USUAL if days >= 7 else [],
    }
    fields.update(changes)
    return DetectorStatus.model_validate(fields)


def handle(world: World, topic: str, payload: bytes) -> Outcome:
    return handle_message(world.db, world.clock, topic, payload).outcome


def test_latest_status_is_kept_and_an_older_one_refused(world: World) -> None:
    assert handle(world, TOPIC, payload_json(status(4))) is Outcome.DETECTOR_STATUS
    newer = status(5, ts=START)
    assert handle(world, TOPIC, payload_json(newer)) is Outcome.DETECTOR_STATUS
    late = status(3, ts=START - timedelta(days=1))
    assert handle(world, TOPIC, payload_json(late)) is Outcome.IGNORED
    assert get_detector_status(world.db, "hh-a") == newer
    assert handle(world, TOPIC, b"") is Outcome.DETECTOR_STATUS  # retained message cleared
    assert get_detector_status(world.db, "hh-a") is None


@pytest.mark.parametrize(
    "payload",
    [
        payload_json(status(4, household="hh-b")),  # another household's status
        b"{not json",
        b'{"household": "hh-a"}',
        json.dumps({**status(4).model_dump(mode="json"), "usual": USUAL}).encode(),  # learning
        json.dumps({**status(7).model_dump(mode="json"), "events": []}).encode(),  # raw data
    ],
)
def test_invalid_statuses_are_rejected(world: World, payload: bytes) -> None:
    assert handle(world, TOPIC, payload) is Outcome.REJECTED
    assert get_detector_status(world.db, "hh-a") is None


def test_api_shows_the_detector_progress(app_client: TestClient, world: World) -> None:
    needed = world.config.learning_days
    world.store.write(make_events("hh-a", START - timedelta(days=needed), needed))
    login(app_client, "carer")
    estimate = app_client.get("/api/v1/households/hh-a").json()["learning"]
    assert estimate["source"] == "estimate"
    assert estimate["days_with_data"] >= needed
    assert (estimate["days_seen"], estimate["days_needed"]) == (needed, needed)
    assert estimate["learned"] is True
    assert estimate["usual"] == []
    # the detector knows better: only 4 of those days were lived-in days it learned from
    handle(world, TOPIC, payload_json(status(4)))
    learning = app_client.get("/api/v1/households/hh-a").json()["learning"]
    assert learning["source"] == "detector"
    assert (learning["days_seen"], learning["days_needed"]) == (4, 7)
    assert learning["fraction"] == pytest.approx(4 / 7)
    assert learning["learned"] is False
    assert learning["usual"] == []
    assert learning["days_with_data"] is None
    handle(world, TOPIC, payload_json(status(7, ts=START)))
    learned = app_client.get("/api/v1/households/hh-a").json()["learning"]
    assert learned["learned"] is True
    assert learned["usual"] == USUAL


def test_page_shows_the_progress_and_the_usual_rhythm(app_client: TestClient, world: World) -> None:
    csrf = form_login(app_client, "nurse")
    page = app_client.get("/households/hh-a").text
    needed = world.config.learning_days
    assert f"Estimate: 0 of {needed} days with sensor data" in page
    handle(world, TOPIC, payload_json(status(4)))
    assert "Learning this home&#39;s rhythm: day 4 of 7" in app_client.get("/households/hh-a").text
    app_client.post("/language", data={"csrf_token": csrf, "language": "nl"})
    assert "Het ritme van dit huis leren: dag 4 van 7" in app_client.get("/households/hh-a").text
    handle(world, TOPIC, payload_json(status(7, ts=START)))
    page = app_client.get("/households/hh-a").text
    assert "Het dagritme is bekend." in page
    assert "Usually up by 07:40, on 19 of the last 20 weekdays" in page


def test_export_holds_it_and_erasure_removes_it(app_client: TestClient, world: World) -> None:
    handle(world, TOPIC, payload_json(status(7)))
    handle(world, topics.detector_status("hh-b"), payload_json(status(2, household="hh-b")))
    token = login(app_client, "resident-a")
    archive = zipfile.ZipFile(io.BytesIO(app_client.get("/api/v1/households/hh-a/export").content))
    exported = json.loads(archive.read("export.json"))["detector_status"]
    assert exported["usual"] == USUAL
    erased = app_client.delete("/api/v1/households/hh-a/data", headers={"X-CSRF-Token": token})
    assert erased.json()["detector_status"] == 1
    assert get_detector_status(world.db, "hh-a") is None
    assert get_detector_status(world.db, "hh-b") is not None  # the neighbour is untouched
    # the retained copy on the broker comes again after a reconnect: it stays erased
    assert handle(world, TOPIC, payload_json(status(7, ts=START))) is Outcome.IGNORED
    assert app_client.get("/api/v1/households/hh-a").json()["learning"]["source"] == "estimate"


@pytest.mark.integration
async def test_bridge_ingests_the_retained_status_from_a_real_broker(
    world: World, broker: BrokerSettings
) -> None:
    async with make_client(broker) as detector:
        await detector.publish(TOPIC, payload_json(status(4)), qos=1, retain=True)
        await detector.publish(topics.detector_status("hh-b"), b"[]", qos=1, retain=True)
    bridge = BrokerBridge(broker, world.db, world.clock, world.publisher)
    runner = asyncio.create_task(bridge.run())
    try:
        counts = bridge.counters.counts
        async with asyncio.timeout(10):
            while counts[Outcome.DETECTOR_STATUS] < 1 or counts[Outcome.REJECTED] < 1:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        stored = get_detector_status(world.db, "hh-a")
        assert stored is not None
        assert stored.learning_days_seen == 4
        assert get_detector_status(world.db, "hh-b") is None
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
