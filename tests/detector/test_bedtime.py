"""Bedtime: learned from the evening's move to the bedroom, told in plain words, trended."""

from __future__ import annotations

from datetime import time, timedelta

from dagritme.models import AlertType, Room
from detector.config import DetectorConfig
from detector.core import Detector
from detector.status import usual_statements
from detector.synthetic import Routine, SyntheticHome
from tests.detector.helpers import AMSTERDAM, HOUSEHOLD, START, local, motion, opened, replay


def _clock(after_noon: int) -> time:
    minute = (after_noon + 720) % 1440
    return time(minute // 60, minute % 60)


def test_bedtime_is_learned_and_said_in_the_words_of_the_status() -> None:
    detector = Detector(DetectorConfig())
    # the synthetic resident goes to the bathroom around 22:45 (+-20 min), then to bed
    replay(detector, SyntheticHome(HOUSEHOLD, AMSTERDAM, seed=2).events(START, 14))
    norm = detector.norms(HOUSEHOLD).bedtime
    assert norm is not None
    assert time(22, 55) <= _clock(norm.usual_minute) <= time(23, 25)
    assert norm.nights >= 10
    assert 0.8 <= norm.on_nights / norm.nights < 1.0
    statement = f"Usually in bed by {_clock(norm.usual_minute):%H:%M}, on {norm.on_nights} of"
    assert any(s.startswith(statement) for s in usual_statements(detector.norms(HOUSEHOLD)))


def test_an_evening_visit_to_the_bedroom_is_not_bedtime_and_bedtime_may_pass_midnight() -> None:
    detector = Detector(DetectorConfig())
    day = START
    evening = [
        motion(Room.KITCHEN, local(day, time(18, 30))),
        motion(Room.BEDROOM, local(day, time(19, 0))),  # changing clothes
        motion(Room.LIVING, local(day, time(19, 20))),
        motion(Room.LIVING, local(day, time(23, 50))),
        motion(Room.BEDROOM, local(day + timedelta(days=1), time(0, 35))),  # to bed
        motion(Room.BATHROOM, local(day + timedelta(days=1), time(3, 10))),  # night visit
        motion(Room.BEDROOM, local(day + timedelta(days=1), time(3, 15))),
        motion(Room.KITCHEN, local(day + timedelta(days=1), time(7, 40))),  # up
    ]
    replay(detector, evening)
    state = detector._home(HOUSEHOLD).state  # noqa: SLF001 - the learned history itself
    learned = [int(v) for v in state.hist_bedtime if v >= 0]
    assert learned == [12 * 60 + 35], "00:35, counted as minutes after the evening's noon"


def test_going_to_bed_much_later_becomes_a_weekly_trend() -> None:
    detector = Detector(DetectorConfig())
    early = SyntheticHome(HOUSEHOLD, AMSTERDAM, seed=4, routine=Routine(bedtime=time(21, 30)))
    assert opened(replay(detector, early.events(START, 21)), AlertType.TREND) == []
    late = SyntheticHome(HOUSEHOLD, AMSTERDAM, seed=5, routine=Routine(bedtime=time(23, 0)))
    trends = opened(replay(detector, late.events(START + timedelta(days=21), 8)), AlertType.TREND)
    assert [t.subtype for t in trends] == ["bedtime"]
    assert trends[0].message.startswith("Usually in bed around 21:")
    assert "this past week" in trends[0].message
