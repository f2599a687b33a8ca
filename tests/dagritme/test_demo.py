"""The demo refuses to start without its dashboard rather than run on without one."""

from __future__ import annotations

import socket
import subprocess
import sys

from dagritme.demo import port_in_use


def test_a_taken_dashboard_port_stops_the_demo_with_a_clear_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert port_in_use(port)
        done = subprocess.run(
            [sys.executable, "-m", "dagritme.cli", "demo", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2
    assert f"port {port} is already in use" in done.stderr
    assert "--port" in done.stderr


def test_a_free_port_is_free() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert not port_in_use(port)
