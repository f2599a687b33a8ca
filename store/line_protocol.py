"""InfluxDB line protocol: escaping and the encoding of one event as one point.

Escaping rules (InfluxDB 1.x, also what 2.x/3.x accept on the v1 `/write` API):
- measurement: commas and spaces are backslash-escaped;
- tag keys, tag values and field keys: commas, spaces and equals signs;
- string field values: double quotes and backslashes, inside double quotes.
Newlines end a point and cannot be escaped in names or tags, and InfluxDB drops tags with
empty values, so those are refused here rather than stored wrongly.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

from dagritme.models import Event

from .timestamps import to_us

MEASUREMENT = "sensor_event"


class LineProtocolError(ValueError):
    """A name or tag value that line protocol cannot carry faithfully."""


_MEASUREMENT_ESCAPES = str.maketrans({",": "\\,", " ": "\\ "})
_KEY_ESCAPES = str.maketrans({",": "\\,", " ": "\\ ", "=": "\\="})
_STRING_ESCAPES = str.maketrans({'"': '\\"', "\\": "\\\\"})


def _check_name(text: str, what: str) -> None:
    if not text:
        raise LineProtocolError(f"{what} may not be empty")
    if "\n" in text or "\r" in text:
        raise LineProtocolError(f"{what} may not contain a line break")
    if text.endswith("\\"):
        # A trailing backslash would escape the separator that follows it.
        raise LineProtocolError(f"{what} may not end with a backslash")


def escape_measurement(name: str) -> str:
    _check_name(name, "measurement")
    return name.translate(_MEASUREMENT_ESCAPES)


def escape_key(text: str, what: str = "tag") -> str:
    """Escape a tag key, tag value or field key."""
    _check_name(text, what)
    return text.translate(_KEY_ESCAPES)


def quote_string(value: str) -> str:
    """A string field value, quoted and escaped."""
    if '"' not in value and "\\" not in value:
        return f'"{value}"'  # the common case, without the slower translate
    return '"' + value.translate(_STRING_ESCAPES) + '"'


def format_field(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        return repr(value)
    return quote_string(value)


def format_point(
    measurement: str,
    tags: Mapping[str, str],
    fields: Mapping[str, str | int | float | bool],
    timestamp_ns: int,
) -> str:
    """One point; tags are sorted by key, which is what InfluxDB indexes fastest."""
    if not fields:
        raise LineProtocolError("a point needs at least one field")
    tag_text = "".join(
        f",{escape_key(key, 'tag key')}={escape_key(value, 'tag value')}"
        for key, value in sorted(tags.items())
    )
    field_text = ",".join(
        f"{escape_key(key, 'field key')}={format_field(value)}" for key, value in fields.items()
    )
    return f"{escape_measurement(measurement)}{tag_text} {field_text} {timestamp_ns}"


def timestamp_ns(event: Event) -> int:
    """The event time in ns, made unique per event below the microsecond.

    A point is unique per measurement, tag set and timestamp, so a retried event (same
    event_id) overwrites itself, while two different events of one sensor in the same
    microsecond (e.g. on and off in one CASAS line second) keep apart. Event times carry
    microseconds, so the nanosecond digits are free for a stable digest of the event_id.
    """
    return to_us(event.ts) * 1000 + zlib.crc32(event.event_id.encode()) % 1000


def encode_event(event: Event, ts_ns: int | None = None) -> str:
    """One event as one point; `ts_ns` saves recomputing `timestamp_ns(event)`."""
    # The ids in an event are pattern-checked by the contract (no spaces, commas, equals
    # or quotes), so the fast path formats directly; `format_point` is the general form.
    if ts_ns is None:
        ts_ns = timestamp_ns(event)
    # StrEnum members format as their value (cheaper than `.value`).
    return (
        f"{MEASUREMENT},household={event.household},kind={event.kind},"
        f"room={event.room},sensor={event.sensor} "
        f'value="{event.value}",event_id={quote_string(event.event_id)},'
        f"presence={int(event.active)}i,seq={event.seq}i {ts_ns}"
    )
