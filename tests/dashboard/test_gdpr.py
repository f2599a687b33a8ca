"""GDPR: export of everything about a household, and erasure across every store."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zipfile
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from dagritme.models import DeviceHealth
from dashboard.alert_store import upsert_alert, upsert_device_health
from dashboard.consent import household_records
from dashboard.households import access_log
from tests.dashboard.conftest import START, World, login, make_alert, make_events


def test_export_holds_events_alerts_consents_and_access_log(
    app_client: TestClient, world: World
) -> None:
    events = make_events("hh-a", START - timedelta(days=3), 3)
    world.store.write(events)
    world.store.write(make_events("hh-b", START - timedelta(days=3), 1))
    upsert_alert(world.db, make_alert(), START)
    login(app_client, "resident-a")
    response = app_client.get("/api/v1/households/hh-a/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert set(archive.namelist()) == {
        "export.json",
        "events.csv",
        "alerts.csv",
        "consents.csv",
        "access_log.csv",
    }
    everything = json.loads(archive.read("export.json"))
    assert len(everything["events"]) == len(events)
    assert {e["household"] for e in everything["events"]} == {"hh-a"}
    assert everything["alerts"][0]["message"].startswith("Usually up by 07:40")
    assert len(everything["consents"]["records"]) == 5
    rows = list(csv.DictReader(io.StringIO(archive.read("events.csv").decode())))
    assert len(rows) == len(events)
    assert rows[0]["sensor"] in {"M001", "M002"}


def test_only_the_resident_exports(app_client: TestClient) -> None:
    login(app_client, "nurse")
    assert app_client.get("/api/v1/households/hh-a/export").status_code == 404
    other = TestClient(app_client.app)
    login(other, "resident-b")
    assert other.get("/api/v1/households/hh-a/export").status_code == 404


def test_erasure_removes_data_and_keeps_consent_and_access_log(
    app_client: TestClient, world: World
) -> None:
    world.store.write(make_events("hh-a", START - timedelta(days=3), 3))
    world.store.write(make_events("hh-b", START - timedelta(days=3), 2))
    upsert_alert(world.db, make_alert(), START)
    upsert_alert(world.db, make_alert("hh-b", "alert-b-1"), START)
    upsert_device_health(
        world.db, DeviceHealth(household="hh-a", sensor="M001", ts=START, battery=80)
    )
    consents_before = len(household_records(world.db, "hh-a"))
    token = login(app_client, "resident-a")
    erased = app_client.delete("/api/v1/households/hh-a/data", headers={"X-CSRF-Token": token})
    assert erased.status_code == 200
    counts = erased.json()
    assert counts["events"] == 18
    assert counts["alerts"] == 1
    assert counts["device_health"] == 1
    assert list(world.store.export("hh-a")) == []
    assert len(list(world.store.export("hh-b"))) == 12  # the neighbour is untouched
    assert app_client.get("/api/v1/households/hh-a/alerts").json() == []
    detail = app_client.get("/api/v1/households/hh-a").json()
    assert detail["display_name"] == "hh-a"  # the name is gone too
    assert detail["devices"] == []
    assert len(household_records(world.db, "hh-a")) == consents_before
    assert any(e.action == "erase all data" for e in access_log(world.db, "hh-a"))


def test_erasure_needs_json_or_token(app_client: TestClient) -> None:
    login(app_client, "resident-a")
    assert app_client.delete("/api/v1/households/hh-a/data").status_code == 403


def test_consent_records_and_access_log_are_append_only(world: World) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        world.db.execute("UPDATE consents SET scope = 'timeline'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        world.db.execute("DELETE FROM consents")
    world.db.execute(
        "INSERT INTO access_log (ts, user_id, username, role, household, action, on_behalf_of)"
        " VALUES ('x', 1, 'u', 'nurse', 'hh-a', 'GET', 'self')"
    )
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        world.db.execute("DELETE FROM access_log")
