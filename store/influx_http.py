"""A small client for the InfluxDB v1 HTTP API: `/write` (line protocol) and `/query` (InfluxQL).

InfluxDB 1.x serves this API natively; 2.x and 3.x serve it for compatibility. Auth is a
token (`Authorization: Token ...`, 2.x/3.x) or a 1.x user and password (basic auth).
Errors are translated here: `InfluxUnavailable` for what a retry may cure (connection
refused, timeouts, 5xx, 429), `InfluxRejected` for what it will not (bad request, auth,
unknown database).
"""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from .base import StoreError
from .config import InfluxSettings

logger = logging.getLogger(__name__)

QUERY_CHUNK_SIZE = 10_000


class InfluxUnavailable(StoreError):
    """InfluxDB cannot be reached or is overloaded right now; try again later."""


class InfluxRejected(StoreError):
    """InfluxDB refused the request; retrying the same request will not help."""


class InfluxBadData(InfluxRejected):
    """InfluxDB refused the points themselves (400: unparsable, outside the retention)."""


@dataclass(frozen=True, slots=True)
class Series:
    """One series of a query result."""

    name: str
    tags: dict[str, str]
    columns: list[str]
    values: list[list[Any]] = field(default_factory=list)


def quote_literal(text: str) -> str:
    """An InfluxQL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quote_identifier(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class InfluxHttp:
    """Synchronous v1 API client; one connection pool, reused."""

    def __init__(
        self, settings: InfluxSettings, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.settings = settings
        headers = {}
        auth: httpx.Auth | None = None
        if settings.token is not None:
            headers["Authorization"] = f"Token {settings.token.get_secret_value()}"
        elif settings.username is not None and settings.password is not None:
            auth = httpx.BasicAuth(settings.username, settings.password.get_secret_value())
        self._client = httpx.Client(
            base_url=settings.url,
            headers=headers,
            auth=auth,
            timeout=settings.timeout_s,
            transport=transport,
        )

    def write(self, body: bytes) -> None:
        params = {"db": self.settings.database, "precision": "ns"}
        if self.settings.retention_policy:
            params["rp"] = self.settings.retention_policy
        headers = {}
        if self.settings.gzip:
            # Level 1: nearly the ratio of level 6 on line protocol, at a fraction of the CPU.
            body = gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        response = self._send("POST", "/write", params=params, content=body, headers=headers)
        if response.status_code != 204:
            raise InfluxRejected(f"InfluxDB write refused ({response.status_code})")

    def execute(self, statement: str) -> list[Series]:
        """Run a statement that changes something (POST), and return its result."""
        return list(self._results("POST", statement, chunked=False))

    def select(self, statement: str) -> Iterator[Series]:
        """Run a read query, streamed in chunks so no result size limit applies."""
        return self._results("GET", statement, chunked=True)

    def delete_v2(self, predicate: str, stop: datetime) -> None:
        """Delete points up to `stop` matching a 2.x delete predicate (/api/v2/delete)."""
        if self.settings.org is None:
            raise InfluxRejected("InfluxDB 2.x delete needs `org` in the settings")
        bucket = self.settings.bucket or (
            f"{self.settings.database}/{self.settings.retention_policy or 'autogen'}"
        )
        body = {
            "start": "1970-01-01T00:00:00Z",
            "stop": stop.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "predicate": predicate,
        }
        self._send(
            "POST",
            "/api/v2/delete",
            params={"org": self.settings.org, "bucket": bucket},
            json=body,
        )

    def ping(self) -> bool:
        try:
            return self._client.get("/ping").status_code == 204
        except httpx.HTTPError:
            return False

    def close(self) -> None:
        self._client.close()

    def _results(self, method: str, statement: str, *, chunked: bool) -> Iterator[Series]:
        params = {"db": self.settings.database, "q": statement, "epoch": "ns"}
        if chunked:
            params |= {"chunked": "true", "chunk_size": str(QUERY_CHUNK_SIZE)}
        if method == "GET":
            request = self._client.build_request(method, "/query", params=params)
        else:
            request = self._client.build_request(method, "/query", data=params)
        try:
            response = self._client.send(request, stream=True)
        except httpx.HTTPError as err:
            raise InfluxUnavailable(f"InfluxDB query failed: {type(err).__name__}") from err
        try:
            if response.status_code != 200:
                response.read()
                self._raise_for(response, "query")
            for line in response.iter_lines():
                if line.strip():
                    yield from _parse_result_document(line)
        except httpx.HTTPError as err:
            raise InfluxUnavailable(f"InfluxDB query failed: {type(err).__name__}") from err
        finally:
            response.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as err:
            raise InfluxUnavailable(f"InfluxDB {path} failed: {type(err).__name__}") from err
        if response.status_code >= 300:
            self._raise_for(response, path)
        return response

    @staticmethod
    def _raise_for(response: httpx.Response, what: str) -> None:
        detail = _error_text(response)
        if response.status_code >= 500 or response.status_code == 429:
            raise InfluxUnavailable(f"InfluxDB {what}: {response.status_code} {detail}")
        if response.status_code == 400 and what == "/write":
            raise InfluxBadData(f"InfluxDB {what}: 400 {detail}")
        raise InfluxRejected(f"InfluxDB {what}: {response.status_code} {detail}")


def _error_text(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(data, dict):
        return str(data.get("error", data))[:200]
    return str(data)[:200]


def _parse_result_document(line: str) -> Iterator[Series]:
    try:
        document = json.loads(line)
    except ValueError as err:
        raise InfluxRejected("InfluxDB answered with something that is not JSON") from err
    if "error" in document:
        raise InfluxRejected(f"InfluxDB query: {document['error']}")
    for result in document.get("results", []):
        if "error" in result:
            raise InfluxRejected(f"InfluxDB query: {result['error']}")
        for series in result.get("series", []):
            yield Series(
                name=series.get("name", ""),
                tags=series.get("tags") or {},
                columns=series["columns"],
                values=series.get("values") or [],
            )
