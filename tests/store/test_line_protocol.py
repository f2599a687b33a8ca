"""Line protocol escaping, proved by round trips through a real InfluxDB."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from store.influx_server import InfluxServer
from store.line_protocol import (
    LineProtocolError,
    escape_key,
    escape_measurement,
    format_point,
    quote_string,
)

_timestamps = itertools.count(1_700_000_000_000_000_000)

# Whatever text a tag can carry faithfully: no line breaks, no trailing backslash, not empty.
tag_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x00"),
    min_size=1,
    max_size=30,
).filter(lambda s: not s.endswith("\\"))
string_field = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=60,
)


@pytest.fixture(scope="module")
def roundtrip_db(influx_server: InfluxServer) -> Iterator[tuple[httpx.Client, str]]:
    name = influx_server.create_database("line_protocol")
    with httpx.Client(base_url=influx_server.url) as client:
        yield client, name
    influx_server.drop_database(name)


def write_and_read(client: httpx.Client, db: str, line: str, ts: int) -> dict[str, object]:
    response = client.post("/write", params={"db": db, "precision": "ns"}, content=line.encode())
    assert response.status_code == 204, response.text
    result = client.get(
        "/query",
        params={"db": db, "epoch": "ns", "q": f'SELECT * FROM "rt 1,x" WHERE time = {ts}'},
    ).json()
    series = result["results"][0]["series"]
    assert len(series) == 1, result
    assert len(series[0]["values"]) == 1, result
    return dict(zip(series[0]["columns"], series[0]["values"][0], strict=True))


def test_escapes_follow_the_documented_rules() -> None:
    assert escape_measurement("a b,c=d") == "a\\ b\\,c=d"
    assert escape_key("a b,c=d") == "a\\ b\\,c\\=d"
    assert quote_string('say "hi" \\o/') == '"say \\"hi\\" \\\\o/"'


@pytest.mark.parametrize("bad", ["", "two\nlines", "cr\r", "ends with \\"])
def test_refuses_what_cannot_round_trip(bad: str) -> None:
    with pytest.raises(LineProtocolError):
        escape_key(bad)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(tag_value=tag_text, other_tag=tag_text, text=string_field)
@example(tag_value="a\\,b", other_tag="\\ \\=x", text='\\"\n\\')
@example(tag_value="=", other_tag='"quoted"', text="\\")
def test_round_trips_through_influxdb(
    roundtrip_db: tuple[httpx.Client, str], tag_value: str, other_tag: str, text: str
) -> None:
    client, db = roundtrip_db
    ts = next(_timestamps)
    line = format_point(
        "rt 1,x",
        {"tag one": tag_value, "k=,2": other_tag},
        {"text": text, "n": 42, "flag": True},
        ts,
    )
    row = write_and_read(client, db, line, ts)
    assert row == {
        "time": ts,
        "tag one": tag_value,
        "k=,2": other_tag,
        "text": text,
        "n": 42,
        "flag": True,
    }
