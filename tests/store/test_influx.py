"""What only the InfluxDB backend has: buffering through outages, auth, retention policies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from store.config import InfluxSettings
from store.influx import InfluxEventStore, StoreUnavailable
from store.influx_http import InfluxHttp, InfluxRejected
from store.influx_server import InfluxServer

from .factories import event

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def own_server() -> Iterator[InfluxServer]:
    """A server this test may stop and start (the session one is shared)."""
    server = InfluxServer().start()
    server.create_database("outage")
    try:
        yield server
    finally:
        server.close()


def quick_retry_settings(server: InfluxServer, **overrides: object) -> InfluxSettings:
    values: dict[str, object] = {
        "url": server.url,
        "database": "outage",
        "retry_attempts": 2,
        "retry_backoff_s": 0.01,
        "retry_backoff_max_s": 0.05,
        "timeout_s": 2.0,
    }
    values.update(overrides)
    return InfluxSettings.model_validate(values)


def test_buffers_through_an_outage_without_loss(own_server: InfluxServer) -> None:
    store = InfluxEventStore(quick_retry_settings(own_server))
    store.write([event(T0 + timedelta(seconds=i), seq=i) for i in range(100)])
    assert store.flush()
    own_server.stop()
    assert store.write([event(T0 + timedelta(seconds=i), seq=i) for i in range(100, 300)]) == 200
    assert store.pending == 200
    assert not store.flush()
    own_server.start()
    assert store.flush()
    assert store.pending == 0
    assert [e.seq for e in store.export("hh-1")] == list(range(300))
    store.close()


def test_refuses_a_batch_when_the_buffer_is_full(own_server: InfluxServer) -> None:
    store = InfluxEventStore(quick_retry_settings(own_server, buffer_max_points=1000))
    own_server.stop()
    store.write([event(T0 + timedelta(seconds=i), seq=i) for i in range(900)])
    with pytest.raises(StoreUnavailable):
        store.write([event(T0 + timedelta(seconds=i), seq=i) for i in range(900, 1200)])
    assert store.pending == 900  # the refused batch stays with the caller
    own_server.start()
    store.write([event(T0 + timedelta(seconds=i), seq=i) for i in range(900, 1200)])
    assert [e.seq for e in store.export("hh-1")] == list(range(1200))
    store.close()


def test_erasure_also_purges_buffered_points(own_server: InfluxServer) -> None:
    store = InfluxEventStore(quick_retry_settings(own_server))
    store.write([event(T0 + timedelta(seconds=i)) for i in range(10)])
    store.write([event(T0 + timedelta(seconds=i), household="hh-2") for i in range(4)])
    assert store.flush()
    own_server.stop()
    store.write([event(T0 + timedelta(minutes=5, seconds=i)) for i in range(5)])
    own_server.start()
    assert store.erase("hh-1") == 15
    assert store.flush()
    assert list(store.export("hh-1")) == []
    assert len(list(store.export("hh-2"))) == 4
    store.close()


def test_same_event_written_twice_counts_once(influx_settings: InfluxSettings) -> None:
    store = InfluxEventStore(influx_settings)
    once = event(T0)
    store.write([once])
    store.write([once, once])
    buckets = store.activity("hh-1", T0, T0 + timedelta(hours=1), timedelta(hours=1))
    assert [b.count for b in buckets] == [1]
    store.close()


def test_writes_to_the_configured_retention_policy(
    influx_server: InfluxServer, influx_database: str
) -> None:
    influx_server.query(
        f'CREATE RETENTION POLICY "short" ON "{influx_database}" DURATION 1000w REPLICATION 1'
    )
    settings = InfluxSettings(
        url=influx_server.url, database=influx_database, retention_policy="short"
    )
    store = InfluxEventStore(settings)
    store.write([event(T0)])
    assert len(list(store.export("hh-1"))) == 1
    default_rp = InfluxEventStore(settings.model_copy(update={"retention_policy": None}))
    assert list(default_rp.export("hh-1")) == []
    store.close()
    default_rp.close()


def test_user_and_password_auth_on_a_secured_server() -> None:
    server = InfluxServer(admin=("admin", "s3cret-pw")).start()
    try:
        server.create_database("secured")
        good = InfluxSettings(
            url=server.url, database="secured", username="admin", password="s3cret-pw"
        )
        store = InfluxEventStore(good)
        store.write([event(T0)])
        assert len(list(store.export("hh-1"))) == 1
        store.close()
        wrong = InfluxSettings.model_validate(
            good.model_dump() | {"password": "wrong", "retry_backoff_s": 0.01}
        )
        intruder = InfluxEventStore(wrong)
        with pytest.raises(InfluxRejected):
            list(intruder.export("hh-1"))
        # Writes are queued; the refusal shows on sending, and the points are kept for
        # when an operator fixes the credentials.
        assert intruder.write([event(T0 + timedelta(seconds=1))]) == 1
        with pytest.raises(InfluxRejected, match="401"):
            intruder.flush()
        assert intruder.pending == 1
    finally:
        server.close()


def test_token_is_sent_as_the_v1_compatibility_header() -> None:
    # influxd 1.6 predates token auth, so this checks the request InfluxDB 2.x/3.x expect.
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    settings = InfluxSettings(url="http://127.0.0.1:9", database="db", token="tok-123")
    http = InfluxHttp(settings, transport=httpx.MockTransport(answer))
    http.write(b"m f=1i 1")
    http.close()
    assert seen[0].headers["Authorization"] == "Token tok-123"
    assert seen[0].url.params["db"] == "db"


def test_erasure_falls_back_to_the_2x_delete_api_when_org_is_set() -> None:
    # influxd 1.6 has no /api/v2/delete: this replays what a 2.x server answers.
    seen: list[httpx.Request] = []

    def influx2(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        # Reads come as GET parameters, statements that change things as a POST form.
        q = request.url.params.get("q") or httpx.QueryParams(request.content.decode()).get("q")
        if request.url.path == "/query" and str(q).startswith("SELECT count"):
            count = {"columns": ["time", "count"], "values": [[0, 12]], "name": "sensor_event"}
            return httpx.Response(200, json={"results": [{"series": [count]}]})
        if request.url.path == "/query":
            return httpx.Response(400, json={"error": "unsupported InfluxQL statement"})
        return httpx.Response(204)

    settings = InfluxSettings(
        url="http://127.0.0.1:9", database="dagritme", token="t", org="care-org"
    )
    store = InfluxEventStore(settings, http=InfluxHttp(settings, httpx.MockTransport(influx2)))
    assert store.erase("hh-1") == 12
    delete = seen[-1]
    assert delete.url.path == "/api/v2/delete"
    assert delete.url.params["org"] == "care-org"
    assert delete.url.params["bucket"] == "dagritme/autogen"
    body = json.loads(delete.content)
    assert body["predicate"] == '_measurement="sensor_event" AND household="hh-1"'
    assert body["start"] == "1970-01-01T00:00:00Z"
    store.close()


def test_results_larger_than_one_chunk_are_read_whole(
    influx_settings: InfluxSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("store.influx_http.QUERY_CHUNK_SIZE", 64)
    store = InfluxEventStore(influx_settings)
    store.write([event(T0 + timedelta(seconds=7 * i), seq=i) for i in range(1000)])
    assert [e.seq for e in store.export("hh-1")] == list(range(1000))
    buckets = store.activity("hh-1", T0, T0 + timedelta(hours=2), timedelta(minutes=1))
    assert sum(b.count for b in buckets) == 1000
    (day,) = store.daily("hh-1", T0.date(), T0.date() + timedelta(days=1), "UTC")
    assert day.events == 1000
    store.close()


def test_gzip_compressed_writes_are_stored(
    influx_server: InfluxServer, influx_database: str
) -> None:
    settings = InfluxSettings(url=influx_server.url, database=influx_database, gzip=True)
    store = InfluxEventStore(settings)
    store.write([event(T0 + timedelta(seconds=i), seq=i) for i in range(500)])
    assert store.flush()
    assert [e.seq for e in store.export("hh-1")] == list(range(500))
    store.close()
