"""The deployment files hold together: no Docker engine runs here, so check their structure.

Every compose service that runs dagritme names a real CLI command, every file it mounts
exists (except the secrets an operator creates), and every config it mounts passes that
command's own --validate-config.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from dagritme.cli import COMMANDS

REPO = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
OPERATOR_CREATED = {"deploy/mosquitto/passwd", "deploy/mosquitto/certs"}


def _dagritme_services() -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, svc)
        for name, svc in COMPOSE["services"].items()
        if svc.get("image", "").startswith("dagritme") or "build" in svc
    ]


def test_compose_has_the_central_services() -> None:
    assert {"mosquitto", "influxdb", "detector", "dashboard", "store"} <= set(COMPOSE["services"])
    assert "gateway" not in COMPOSE["services"], "the gateway runs on the Pi, not centrally"


@pytest.mark.parametrize(("name", "service"), _dagritme_services())
def test_service_command_is_a_real_entry_point(name: str, service: dict[str, Any]) -> None:
    command = service["command"]
    assert command[0] in COMMANDS, f"{name}: {command[0]} is not a dagritme command"
    assert "--config" in command


@pytest.mark.parametrize(("name", "service"), list(COMPOSE["services"].items()))
def test_mounted_files_exist(name: str, service: dict[str, Any]) -> None:
    for volume in service.get("volumes", []):
        source = volume.split(":")[0]
        if not source.startswith("./"):
            continue  # a named volume
        relative = source[2:]
        if relative in OPERATOR_CREATED:
            continue
        assert (REPO / relative).exists(), f"{name} mounts missing {relative}"


def _validate(command: list[str], config: Path) -> subprocess.CompletedProcess[str]:
    command = list(command)
    command[command.index("--config") + 1] = str(config)
    return subprocess.run(
        [sys.executable, "-m", "dagritme.cli", *command, "--validate-config"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _host_config(service: dict[str, Any]) -> Path:
    command = list(service["command"])
    container_path = command[command.index("--config") + 1]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in service["volumes"] if v.startswith("./")}
    return REPO / mounts[container_path][2:]


@pytest.mark.parametrize(("name", "service"), _dagritme_services())
def test_mounted_config_validates_once_secrets_are_filled_in(
    name: str, service: dict[str, Any], tmp_path: Path
) -> None:
    """What an operator does: replace each CHANGE-ME, then the service accepts the file."""
    text = _host_config(service).read_text()
    filled = tmp_path / f"{name}.toml"
    filled.write_text(text.replace("CHANGE-ME", secrets.token_urlsafe(32)))
    result = _validate(service["command"], filled)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dashboard_refuses_the_placeholder_secret() -> None:
    service = COMPOSE["services"]["dashboard"]
    result = _validate(service["command"], _host_config(service))
    assert result.returncode == 2
    assert "secret_key" in result.stdout + result.stderr


def test_dockerfile_installs_the_entry_point() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["dagritme"]' in dockerfile
    for package in ("dagritme", "detector", "dashboard", "store"):
        assert f"COPY {package} ./{package}" in dockerfile
