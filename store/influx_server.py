"""Start a real InfluxDB 1.x (`influxd`) on free loopback ports (tests, benchmarks, demo).

Like `dagritme.servers.MosquittoServer`: a generated config, its own temporary data, meta
and WAL directories, usage reporting off, and `start()` returns only once `/ping` answers.
influxd takes a few seconds to start, so tests share one server per session and use a fresh
database per test.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Self

import httpx

from dagritme.servers import ChildServer, ServerError, free_port

CONFIG_TEMPLATE = """\
reporting-disabled = true
bind-address = "{host}:{rpc_port}"

[meta]
  dir = "{root}/meta"
  logging-enabled = false

[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  query-log-enabled = false
  trace-logging-enabled = false

[http]
  enabled = true
  bind-address = "{host}:{http_port}"
  auth-enabled = {auth}
  log-enabled = false
  write-tracing = false
  max-body-size = 0

[monitor]
  store-enabled = false

[continuous_queries]
  enabled = false

[subscriber]
  enabled = false

[logging]
  level = "warn"
"""


def find_influxd() -> str | None:
    found = shutil.which("influxd")
    if found:
        return found
    candidate = Path("/usr/bin/influxd")
    return str(candidate) if candidate.exists() else None


@dataclass
class InfluxServer(ChildServer):
    """A real influxd on free loopback ports.

    With `admin` set (user, password) the server requires authentication and the admin
    user is created before auth is switched on (InfluxDB allows that one bootstrap query).
    """

    host: str = "127.0.0.1"
    http_port: int = 0
    rpc_port: int = 0
    admin: tuple[str, str] | None = None
    start_timeout_s: float = 30.0
    _databases: set[str] = field(default_factory=set)
    _client: httpx.Client | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    LOG_NAME: ClassVar[str] = "influxd.log"
    STOP_TIMEOUT_S: ClassVar[float] = 10.0

    def start(self) -> Self:
        binary = find_influxd()
        if binary is None:
            raise ServerError("influxd is not installed (apt-get install influxdb)")
        workdir = self._ensure_workdir("influxd-")
        self.http_port = self.http_port or free_port()
        self.rpc_port = self.rpc_port or free_port()
        conf = workdir / "influxdb.conf"
        conf.write_text(
            CONFIG_TEMPLATE.format(
                host=self.host,
                rpc_port=self.rpc_port,
                http_port=self.http_port,
                root=workdir,
                auth="true" if self.admin else "false",
            )
        )
        if self._client is None:
            # One client for the server's life: a new httpx client per call costs ~40 ms.
            auth = httpx.BasicAuth(*self.admin) if self.admin else None
            self._client = httpx.Client(base_url=self.url, auth=auth, timeout=30)
        self._spawn([binary, "-config", str(conf)])
        self._wait_for_ping()
        if self.admin:
            user, password = self.admin
            # The first user may be created without credentials, even with auth on.
            self.query(f"CREATE USER \"{user}\" WITH PASSWORD '{password}' WITH ALL PRIVILEGES")
        return self

    def _wait_for_ping(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ServerError(
                    f"influxd exited with code {self._proc.returncode}: {self.log_text()[-2000:]}"
                )
            try:
                if self._http().get("/ping", timeout=0.5).status_code == 204:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise ServerError(f"influxd did not answer /ping within {self.start_timeout_s} s")

    def query(self, q: str, database: str | None = None) -> httpx.Response:
        """Run one InfluxQL statement as the admin (POST, so it may modify)."""
        params = {"q": q}
        if database:
            params["db"] = database
        response = self._http().post("/query", params=params)
        if response.status_code != 200 or '"error"' in response.text:
            raise ServerError(f"influx query failed ({response.status_code}): {response.text}")
        return response

    def _http(self) -> httpx.Client:
        if self._client is None:
            raise ServerError("influxd is not started")
        return self._client

    def create_database(self, name: str) -> str:
        self.query(f'CREATE DATABASE "{name}"')
        self._databases.add(name)
        return name

    def drop_database(self, name: str) -> None:
        self.query(f'DROP DATABASE "{name}"')
        self._databases.discard(name)

    def _release(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
