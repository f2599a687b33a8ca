from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dagritme.clock import AcceleratedClock, ManualClock, floor_to


def test_manual_clock_moves_only_forward() -> None:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    clock.advance(timedelta(hours=1))
    assert clock.now() == datetime(2026, 1, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="backwards"):
        clock.set(datetime(2026, 1, 1, tzinfo=UTC))


def test_accelerated_clock_scales_wall_time() -> None:
    wall = ManualClock(datetime(2030, 1, 1, tzinfo=UTC))
    clock = AcceleratedClock(datetime(2026, 1, 1, tzinfo=UTC), speed=60, wall=wall)
    wall.advance(timedelta(seconds=10))
    assert clock.now() == datetime(2026, 1, 1, 0, 10, tzinfo=UTC)


def test_floor_to() -> None:
    ts = datetime(2026, 1, 1, 10, 17, 33, tzinfo=UTC)
    assert floor_to(ts, timedelta(minutes=15)) == datetime(2026, 1, 1, 10, 15, tzinfo=UTC)
