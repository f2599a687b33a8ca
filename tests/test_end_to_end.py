"""End to end over a real mosquitto: simulated Zigbee2MQTT home -> gateway -> broker ->
detector -> alert stored by the dashboard and readable through its JSON API.

The whole installation runs in one loop on an accelerated clock (the composition root in
dagritme.system, the same wiring as `dagritme demo`); only the broker is a separate process.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from dagritme import system
from dagritme.embedded_broker import embedded_broker
from dagritme.mqtt import BrokerSettings
from dagritme.servers import free_port

TZ = ZoneInfo("Europe/Amsterdam")


async def _login(client: httpx.AsyncClient, user: str, password: str) -> None:
    response = await client.post("/api/v1/login", json={"username": user, "password": password})
    response.raise_for_status()


async def _wait_for_alert(
    client: httpx.AsyncClient, household: str, alert_type: str, timeout_s: float
) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = await client.get(f"/api/v1/households/{household}/alerts")
        response.raise_for_status()
        for alert in response.json():
            if alert["type"] == alert_type:
                return dict(alert)
        await asyncio.sleep(0.2)
    pytest.fail(f"no {alert_type} alert for {household} within {timeout_s} s")


@pytest.mark.integration
async def test_night_door_reaches_the_dashboard_api(broker: BrokerSettings, tmp_path: Path) -> None:
    await _night_door_through_the_system(broker, tmp_path)


@pytest.mark.integration
async def test_the_bare_machine_demo_broker_carries_the_same_path(tmp_path: Path) -> None:
    """`make demo` on a machine without mosquitto runs amqtt in-process: same path, same alert."""
    async with embedded_broker(preferred_port=free_port(), kind="amqtt") as broker:
        await _night_door_through_the_system(broker, tmp_path)


async def _night_door_through_the_system(broker: BrokerSettings, tmp_path: Path) -> None:
    spec = system.SystemSpec(
        homes=(
            system.HomeSpec("hh-e2e1", "Test home", "typical", ("night_wandering@0T03:10",)),
            system.HomeSpec("hh-e2e2", "Quiet neighbour", "sparse"),
        ),
        start=datetime(2026, 11, 10, 3, 0, tzinfo=TZ),
        speed=60.0,  # the door opens 10 simulated minutes = 10 s after the start
        data_dir=tmp_path,
        http_port=free_port(),
        timezone="Europe/Amsterdam",
        warmup_days=8,
    )
    running = system.build(spec, broker)
    task = asyncio.create_task(system.run(running))
    try:
        await asyncio.wait_for(running.dashboard.wait_started(), timeout=30)
        async with httpx.AsyncClient(base_url=running.dashboard_url, timeout=5) as client:
            await _login(client, "carer", running.logins["carer"])
            alert = await _wait_for_alert(client, "hh-e2e1", "night_door", timeout_s=60)
            # Door at 03:10 data time = 10 s after the start; "within seconds" of it.
            raised = datetime.fromisoformat(str(alert["ts"]))
            assert raised.astimezone(TZ).hour == 3
            assert "door" in str(alert["message"]).lower()
            assert alert["severity"] in ("warning", "urgent")
            neighbour = await client.get("/api/v1/households/hh-e2e2/alerts")
            assert [a["type"] for a in neighbour.json() if a["type"] == "night_door"] == []
            # The events of the night went through the store consumer into the history.
            detail = (await client.get("/api/v1/households/hh-e2e1")).json()
            assert detail["last_activity"] is not None
            # The detector's own learning status (retained) reached the dashboard too.
            learning = detail["learning"]
            assert learning["source"] == "detector"
            assert learning["learned"] is True
            assert any(text.startswith("Usually up by") for text in learning["usual"])
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        system.close(running)
