"""Start real servers as child processes on free loopback ports (tests, benchmarks, demo).

Mosquitto is configured knowingly: its defaults (max_queued_messages 1000, Nagle's
algorithm on) drop or slow QoS 1 bursts, so every broker started here, and the deployment
config in deploy/, raises the queue bound and sets `set_tcp_nodelay true`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Self

MOSQUITTO_TUNING = """\
max_queued_messages 100000
max_inflight_messages 0
set_tcp_nodelay true
persistence false
"""


class ServerError(RuntimeError):
    """A server that would not start."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerError(f"server exited with code {proc.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.02)
    raise ServerError(f"nothing listens on {host}:{port} after {timeout} s")


def stop_process(proc: subprocess.Popen[bytes] | None, timeout: float = 5.0) -> None:
    """Terminate a server process, killing it if it does not stop within `timeout`."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def read_log(workdir: Path | None, name: str) -> str:
    """A server's log file in its work directory, or '' when there is none."""
    if workdir is None:
        return ""
    path = workdir / name
    return path.read_text(errors="replace") if path.exists() else ""


@dataclass
class ChildServer:
    """A server run as a child process with a work directory of its own.

    Subclasses write their config into `workdir` and call `_spawn` from `start()`; stopping,
    restarting on the same ports, closing and reading the log are the same for all.
    """

    workdir: Path | None = None
    _proc: subprocess.Popen[bytes] | None = None
    _tmp: tempfile.TemporaryDirectory[str] | None = None

    LOG_NAME: ClassVar[str] = "server.log"
    STOP_TIMEOUT_S: ClassVar[float] = 5.0

    def start(self) -> Self:
        raise NotImplementedError

    def _ensure_workdir(self, prefix: str) -> Path:
        if self.workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix=prefix)
            self.workdir = Path(self._tmp.name)
        return self.workdir

    def _spawn(self, argv: list[str]) -> subprocess.Popen[bytes]:
        log = (self._ensure_workdir("server-") / self.LOG_NAME).open("wb")
        self._proc = subprocess.Popen(argv, stdout=log, stderr=log)
        return self._proc

    def stop(self) -> None:
        stop_process(self._proc, self.STOP_TIMEOUT_S)
        self._proc = None

    def restart(self) -> None:
        """Stop and start again on the same ports with the same data (an outage)."""
        self.stop()
        self.start()

    def _release(self) -> None:
        """What a subclass holds beyond the process (clients), freed on close."""

    def close(self) -> None:
        self.stop()
        self._release()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def log_text(self) -> str:
        return read_log(self.workdir, self.LOG_NAME)


def find_mosquitto() -> str | None:
    found = shutil.which("mosquitto")
    if found:
        return found
    candidate = Path("/usr/sbin/mosquitto")
    return str(candidate) if candidate.exists() else None


@dataclass
class MosquittoServer(ChildServer):
    """A real mosquitto on a free loopback port.

    `passwords` maps user -> password (hashed with mosquitto_passwd); `acl` is the text of
    an ACL file. Without passwords the broker allows anonymous clients.
    """

    port: int = 0
    passwords: dict[str, str] = field(default_factory=dict)
    acl: str | None = None
    extra_config: str = ""
    host: str = "127.0.0.1"

    LOG_NAME: ClassVar[str] = "mosquitto.log"

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self) -> Self:
        binary = find_mosquitto()
        if binary is None:
            raise ServerError("mosquitto is not installed (apt-get install mosquitto)")
        workdir = self._ensure_workdir("mosquitto-")
        if not self.port:
            self.port = free_port()
        lines = [f"listener {self.port} {self.host}", MOSQUITTO_TUNING]
        if os.geteuid() == 0:
            # As root mosquitto drops to its own user, which then cannot read our 0600 files.
            lines.append("user root")
        if self.passwords:
            pwfile = workdir / "passwd"
            pwfile.write_text("")
            for user, password in self.passwords.items():
                subprocess.run(
                    ["mosquitto_passwd", "-b", str(pwfile), user, password],
                    check=True,
                    capture_output=True,
                )
            pwfile.chmod(0o600)
            lines += [f"password_file {pwfile}", "allow_anonymous false"]
        else:
            lines.append("allow_anonymous true")
        if self.acl is not None:
            aclfile = workdir / "acl"
            aclfile.write_text(self.acl)
            aclfile.chmod(0o600)
            lines.append(f"acl_file {aclfile}")
        lines.append(self.extra_config)
        conf = workdir / "mosquitto.conf"
        conf.write_text("\n".join(lines) + "\n")
        wait_for_port(self.host, self.port, 10, self._spawn([binary, "-c", str(conf)]))
        return self


@contextlib.contextmanager
def mosquitto(**kwargs: object) -> Iterator[MosquittoServer]:
    server = MosquittoServer(**kwargs).start()  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.close()
