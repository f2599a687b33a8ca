"""The store-and-forward queue: durable across reopen, bounded, states and seq persisted."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from dagritme.models import Value
from gateway.normaliser import SensorState
from gateway.outbox import Outbox, OutgoingMessage


def messages(count: int, start: int = 0) -> list[OutgoingMessage]:
    return [
        OutgoingMessage("dagritme/v1/hh/events", f"{n}".encode())
        for n in range(start, start + count)
    ]


def test_queued_messages_states_and_seq_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite3"
    seen = datetime(2026, 1, 5, 7, tzinfo=UTC)
    outbox = Outbox(path)
    outbox.commit(messages(3), {"M001": SensorState(Value.ON, seen)}, next_seq=3)
    outbox.close()

    reopened = Outbox(path)
    assert reopened.count == 3
    assert reopened.next_seq == 3
    assert reopened.load_states() == {"M001": SensorState(Value.ON, seen)}
    assert [row.payload for row in reopened.peek(10)] == [b"0", b"1", b"2"]
    reopened.close()


def test_rows_are_deleted_only_when_acknowledged(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "queue.sqlite3")
    outbox.commit(messages(5))
    rows = outbox.peek(2)
    outbox.delete([rows[0].id])
    assert outbox.count == 4
    assert [row.payload for row in outbox.peek(10)] == [b"1", b"2", b"3", b"4"]
    outbox.delete([rows[0].id])  # a late second PUBACK changes nothing
    assert outbox.count == 4
    outbox.close()


def test_full_queue_drops_oldest_counts_and_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(tmp_path / "queue.sqlite3", max_rows=100)
    with caplog.at_level(logging.WARNING):
        outbox.commit(messages(79))
        assert not caplog.records
        outbox.commit(messages(1, start=79))
        assert "80% full" in caplog.text
        outbox.commit(messages(30, start=80))
    assert outbox.count == 100
    assert outbox.dropped == 10
    assert outbox.peek(1)[0].payload == b"10"
    assert "dropped the 10 oldest" in caplog.text
    outbox.close()
    assert Outbox(tmp_path / "queue.sqlite3", max_rows=100).dropped == 10


def test_the_queue_is_in_wal_mode(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "queue.sqlite3"
    Outbox(path).close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_open_days_counts_survive_a_reopen_and_go_with_their_summary(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite3"
    monday, tuesday = date(2026, 1, 5), date(2026, 1, 6)
    outbox = Outbox(path)
    outbox.commit([], day_counts={monday: {"*": 3, "kitchen": 2}, tuesday: {"*": 1}})
    outbox.commit([], day_counts={monday: {"*": 4, "kitchen": 2, "hall": 1}})
    outbox.close()

    reopened = Outbox(path)
    assert reopened.load_day_counts() == {
        monday: {"*": 4, "kitchen": 2, "hall": 1},
        tuesday: {"*": 1},
    }
    reopened.commit(messages(1), finished_days=[monday])
    assert reopened.load_day_counts() == {tuesday: {"*": 1}}
    assert reopened.count == 1
    reopened.close()
