"""What only the SQLite backend has: WAL, exact new-event counts, sharing between threads."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from store.sqlite import SqliteEventStore

from .factories import event

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_uses_wal_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "events.sqlite"
    store = SqliteEventStore(path)
    assert store.write([event(T0 + timedelta(seconds=i)) for i in range(5)]) == 5
    store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reopened = SqliteEventStore(path)
    assert reopened.count("hh-1") == 5
    reopened.close()


def test_write_reports_only_new_events(tmp_path: Path) -> None:
    store = SqliteEventStore(tmp_path / "e.sqlite")
    batch = [event(T0 + timedelta(seconds=i)) for i in range(10)]
    assert store.write(batch) == 10
    assert store.write(batch) == 0
    assert store.write([*batch[:3], event(T0 + timedelta(hours=1))]) == 1
    assert store.write([]) == 0
    store.close()


def test_threads_can_share_one_store(tmp_path: Path) -> None:
    store = SqliteEventStore(tmp_path / "e.sqlite")

    def work(worker: int) -> int:
        batch = [event(T0 + timedelta(seconds=i), household=f"hh-{worker}") for i in range(200)]
        written = store.write(batch)
        store.activity(f"hh-{worker}", T0, T0 + timedelta(hours=1), timedelta(minutes=5))
        return written

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert sum(pool.map(work, range(8))) == 1600
    assert store.count() == 1600
    store.close()


def test_in_memory_store(tmp_path: Path) -> None:
    store = SqliteEventStore(":memory:")
    store.write([event(T0)])
    assert [s.sensor for s in store.last_seen("hh-1")] == ["M001"]
    store.close()


def file_bytes(db: Path) -> bytes:
    """The database file and its write-ahead log, as they lie on disk."""
    return b"".join(
        path.read_bytes() for path in (db, db.with_name(db.name + "-wal")) if path.exists()
    )


def test_erasure_leaves_nothing_readable_in_the_file(tmp_path: Path) -> None:
    db = tmp_path / "events.sqlite"
    store = SqliteEventStore(db)
    erased, kept = "hh-erase-me-7f3a", "hh-keep-2"
    for i in range(0, 3000, 500):
        # Interleaved, so the two households share pages and indexes.
        store.write(
            [
                event(T0 + timedelta(seconds=s), household=erased, sensor="Msecret", seq=s)
                for s in range(i, i + 500)
            ]
            + [event(T0 + timedelta(seconds=s), household=kept, seq=s) for s in range(i, i + 500)]
        )
    assert erased.encode() in file_bytes(db)  # the check below can see the rows
    assert store.erase(erased) == 3000
    raw = file_bytes(db)
    assert erased.encode() not in raw
    assert b"Msecret" not in raw
    assert store.count(kept) == 3000
    store.close()
    assert erased.encode() not in file_bytes(db)
