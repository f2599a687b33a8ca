"""Online learning of a household's rhythm from its events, in the home's local time.

Pure functions over `HouseholdState`: one event in, counters and histograms updated. Silences
are learned per context (2-hour block of the day x the room of the last presence), so a long
silence in the bedroom at night is normal while one in the bathroom at noon is not. Silences
that raised an alert, or that ran while the gateway was offline, are not learned as normal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np

from dagritme import rhythm
from dagritme.models import Event, Room
from dagritme.rhythm import (  # one definition, shared with the dashboard's trends
    BACK_TO_BED_S,
    MIN_PRESENCE_FOR_DAY,
    NOT_UP_ROOMS,
    PASSAGE_ROOMS,
    RISING_EARLIEST_MINUTE,
    RISING_EVENTS,
    RISING_LATEST_MINUTE,
    RISING_WINDOW_S,
)
from detector.config import Thresholds
from detector.norms import Norms, in_night
from detector.sensors import learn_sensor, roll_sensors
from detector.state import (
    AWAY_HISTORY,
    BLOCK_HOURS,
    HISTORY_DAYS,
    ROOM_INDEX,
    SHORT_GAP_S,
    TAIL_FROM_MIN,
    DayCounters,
    HouseholdState,
    gap_bin,
)

HOUR_BITS = 1 << np.arange(24, dtype=np.int64)  # bit `hour` of a day's hour bitmask
WEEKEND_FROM = 5  # Saturday
RETURN_EVENTS = 3
RETURN_WINDOW_S = 10 * 60
# Bedtime: the first bedroom presence of an evening (18:00-04:00) that is followed by at
# least BED_SETTLE_S without activity outside the bed and bath rooms; an evening visit to
# the bedroom (changing clothes, a nap) is followed by activity elsewhere sooner.
BEDTIME_FROM_MINUTE = 18 * 60
BEDTIME_UNTIL_MINUTE = 4 * 60
BED_SETTLE_S = 3 * 3600
NOON = 12 * 60
WET_ROOMS = frozenset({Room.BATHROOM, Room.TOILET})
WET_INDEXES = frozenset(ROOM_INDEX[r] for r in WET_ROOMS)
BED_BATH_INDEXES = frozenset(ROOM_INDEX[r] for r in NOT_UP_ROOMS)
BEDROOM_INDEX = ROOM_INDEX[Room.BEDROOM]


@dataclass(slots=True)
class Home:
    """A household's state with its time zone and its current norms."""

    state: HouseholdState
    tz: ZoneInfo
    norms: Norms
    norms_stale: bool = False  # the day rolled; norms are recomputed within a few ticks
    seen_ids: set[str] = field(default_factory=set)  # mirror of state.recent_ids

    def first_sight(self, event_id: str) -> bool:
        """True the first time an event id is seen (QoS 1 and gateway retries repeat)."""
        if event_id in self.seen_ids:
            return False
        recent = self.state.recent_ids
        if recent.maxlen is not None and len(recent) == recent.maxlen:
            self.seen_ids.discard(recent[0])
        recent.append(event_id)
        self.seen_ids.add(event_id)
        return True


def is_presence(event: Event) -> bool:
    """Someone was there (`dagritme.rhythm.is_presence`, the dashboard's rule too)."""
    return rhythm.is_presence(event.kind, event.value)


def is_away(state: HouseholdState, th: Thresholds) -> bool:
    """Out of home: confirmed earlier, or the last presence was leaving by the entrance."""
    return not math.isnan(state.away_since_ts) or looks_out(state, th)


def looks_out(state: HouseholdState, th: Thresholds) -> bool:
    """The last presence was at the entrance, right after the front door opened."""
    if state.last_presence_room != ROOM_INDEX[Room.ENTRANCE]:
        return False
    if not state.has_exterior_door:
        return th.entrance_motion_means_away
    window = th.away_door_window_minutes * 60
    return (
        not math.isnan(state.last_door_open_ts)
        and state.last_presence_ts - state.last_door_open_ts <= window
    )


def roll_day(home: Home, ordinal: int, th: Thresholds) -> None:
    """Close the local day(s) before `ordinal`: push day counters, decay, mark norms stale."""
    state = home.state
    if state.day_ordinal < 0:
        state.day_ordinal = ordinal
        return
    elapsed = ordinal - state.day_ordinal
    if elapsed <= 0:
        return
    today = state.today
    # After a month without data the history is all empty days; only decay goes on.
    for step in range(min(elapsed, HISTORY_DAYS + 1)):
        counters = today if step == 0 else DayCounters()
        _close_day(state, counters, th, state.day_ordinal + step)
    if elapsed > HISTORY_DAYS + 1:
        _decay(state, th.decay_per_day ** (elapsed - HISTORY_DAYS - 1))
    roll_sensors(state.sensor_records, today.presence >= MIN_PRESENCE_FOR_DAY)
    state.today = DayCounters()
    state.day_ordinal = ordinal
    home.norms_stale = True


def _decay(state: HouseholdState, factor: float) -> None:
    state.gap_hist *= factor
    state.gap_excess *= factor
    state.bathroom_hist *= factor
    state.bathroom_excess *= factor
    state.door_hour_hist *= factor
    state.awake_hour_hist *= factor
    state.days_decayed *= factor
    state.nights_decayed *= factor


def _close_day(state: HouseholdState, day: DayCounters, th: Thresholds, ordinal: int) -> None:
    _decay(state, th.decay_per_day)
    valid = day.presence >= MIN_PRESENCE_FOR_DAY
    pos = state.ring_pos
    state.hist_presence[pos] = day.presence if valid else -1
    state.hist_kitchen[pos] = day.kitchen if valid else -1
    state.hist_night_toilet[pos] = day.night_toilet if valid else -1
    state.hist_night_minutes[pos] = day.night_minutes if valid else -1
    # A rising after a not_up alert is not learned as normal, except in the learning period:
    # a cold-start limit is a guess from a few days, and an alert on it says more about the
    # guess (weekdays seen, a first weekend's sleep-in) than about the resident. Unlearned,
    # that sleep-in would keep the weekend limit early and alert again every weekend.
    learn_rising = valid and (not day.alerted or state.days_seen < th.learning_days)
    state.hist_rising[pos] = day.rising_minute if learn_rising else -1
    state.hist_rising_seen[pos] = day.rising_minute if valid else -1
    state.hist_weekend[pos] = 1 if date.fromordinal(ordinal).weekday() >= WEEKEND_FROM else 0
    state.ring_pos = (pos + 1) % HISTORY_DAYS
    state.hist_bedtime[state.ring_pos] = -1  # the new day's evening: nothing known yet
    if valid:
        state.days_seen += 1
        state.days_decayed += 1.0
        state.nights_decayed += 1.0
        if day.door_hours:
            state.door_hour_hist += (day.door_hours & HOUR_BITS) != 0
        if day.awake_hours:
            state.awake_hour_hist += (day.awake_hours & HOUR_BITS) != 0


def learn_event(home: Home, event: Event, ts: float, local: datetime, th: Thresholds) -> None:
    """Update the state with one event (already de-duplicated, day already rolled)."""
    state = home.state
    state.last_event_ts = ts if math.isnan(state.last_event_ts) else max(ts, state.last_event_ts)
    learn_sensor(
        state.sensor_records,
        event.sensor,
        ts,
        state.presence_counter,
        event.sensor in state.silent_sensors,
    )
    if not is_presence(event):
        return
    state.presence_counter += 1.0
    room = ROOM_INDEX[event.room]
    minute = local.hour * 60 + local.minute
    today = state.today
    if event.is_exterior_door:
        state.has_exterior_door = True
        if event.active:
            state.last_door_open_ts = ts
            today.door_hours |= 1 << local.hour
    if _still_away(state, ts, event.active, th):
        return
    today.presence += 1
    if event.room is Room.KITCHEN:
        today.kitchen += 1
    night = in_night(minute, th)

    flagged = state.gap_flagged
    _learn_silence(state, ts, th)

    if room != state.stay_room:
        _close_stay(state, ts, flagged)
        state.stay_room = room
        state.stay_start_ts = ts
        if night and room in WET_INDEXES:
            today.night_toilet += 1
    if room not in BED_BATH_INDEXES:
        today.awake_hours |= 1 << local.hour
    if night and room not in BED_BATH_INDEXES and minute != state.last_night_minute:
        today.night_minutes += 1
        state.last_night_minute = minute
    _track_rising(today, event, ts, minute)
    _track_bedtime(state, room, ts, minute, local.toordinal())

    if math.isnan(state.last_presence_ts) or ts >= state.last_presence_ts:
        state.last_presence_ts = ts
        state.last_presence_room = room
        state.last_presence_sensor = event.sensor
        state.last_presence_block = local.hour // BLOCK_HOURS


def _track_bedtime(state: HouseholdState, room: int, ts: float, minute: int, day: int) -> None:
    if room == BEDROOM_INDEX:
        evening = minute >= BEDTIME_FROM_MINUTE or minute < BEDTIME_UNTIL_MINUTE
        if evening and math.isnan(state.bed_candidate_ts):
            state.bed_candidate_ts = ts
            state.bed_candidate_minute = (minute - NOON) % 1440
            state.bed_candidate_day = day if minute >= NOON else day - 1
        return
    if room in BED_BATH_INDEXES or math.isnan(state.bed_candidate_ts):
        return  # a night toilet visit does not end the night
    if ts - state.bed_candidate_ts >= BED_SETTLE_S:
        back = state.day_ordinal - state.bed_candidate_day  # 0: this evening, 1: last night
        slot = (state.ring_pos - back) % HISTORY_DAYS
        # the first settling of the evening counts: a night up and back to bed is restlessness
        if 0 <= back < HISTORY_DAYS - 1 and state.hist_bedtime[slot] < 0:
            state.hist_bedtime[slot] = state.bed_candidate_minute
    state.bed_candidate_ts = math.nan


def _still_away(state: HouseholdState, ts: float, active: bool, th: Thresholds) -> bool:
    """While out, a few isolated events (sensor ghosts, a pet) do not mean back home.

    Back home takes RETURN_EVENTS activations (motion on, door open, contact on), each
    within RETURN_WINDOW_S of the last; the 'off' half of a contact pair does not count.
    """
    if math.isnan(state.away_since_ts):
        if math.isnan(state.last_presence_ts) or not looks_out(state, th):
            return False
        if ts - state.last_presence_ts < th.away_door_window_minutes * 60:
            return False
        state.away_since_ts = state.last_presence_ts
        state.return_count = 0
    if not active:
        return True
    if state.return_count == 0 or ts - state.return_last_ts > RETURN_WINDOW_S:
        state.return_first_ts = ts
        state.return_count = 1
    else:
        state.return_count += 1
    state.return_last_ts = ts
    if state.return_count < RETURN_EVENTS:
        return True
    if not state.gap_flagged:
        state.away_minutes[state.away_pos] = (state.return_first_ts - state.away_since_ts) / 60
        state.away_pos = (state.away_pos + 1) % AWAY_HISTORY
    state.gap_flagged = True  # the time out is not a silence at home
    state.away_since_ts = math.nan
    state.return_count = 0
    state.last_presence_ts = ts
    return False


def _learn_silence(state: HouseholdState, ts: float, th: Thresholds) -> None:
    previous = state.last_presence_ts
    if math.isnan(previous) or ts < previous:
        return
    if ts - previous < SHORT_GAP_S:
        # short gaps only count as support: a context visited often without long silences
        state.gap_hist[state.last_presence_block, state.last_presence_room, 0] += 1.0
        state.gap_flagged = False
        return
    minutes = (ts - previous) / 60
    if not state.gap_flagged:  # flagged: it raised an alert or the gateway was down
        block, room = state.last_presence_block, state.last_presence_room
        state.gap_hist[block, room, gap_bin(minutes)] += 1.0
        if minutes >= TAIL_FROM_MIN:
            state.gap_excess[block, room] += minutes - TAIL_FROM_MIN
    state.gap_flagged = False


def _close_stay(state: HouseholdState, ts: float, flagged: bool) -> None:
    if state.stay_room in WET_INDEXES and not math.isnan(state.stay_start_ts):
        minutes = (ts - state.stay_start_ts) / 60
        if minutes * 60 >= SHORT_GAP_S and not flagged:
            state.bathroom_hist[gap_bin(minutes)] += 1.0
            if minutes >= TAIL_FROM_MIN:
                state.bathroom_excess[0] += minutes - TAIL_FROM_MIN


def settle_rising(today: DayCounters, now_ts: float) -> bool:
    """A first activity outside the bed and bath rooms not followed by a return to the
    bedroom within BACK_TO_BED_S was the rising (works for sparse homes too). True when
    the rising was settled by this call."""
    if today.rising_minute < 0 <= today.rising_candidate_ts:
        if now_ts - today.rising_candidate_ts > BACK_TO_BED_S:
            today.rising_minute = today.rising_candidate_minute
            return True
    return False


def _track_rising(today: DayCounters, event: Event, ts: float, minute: int) -> None:
    settle_rising(today, ts)
    if today.rising_minute >= 0 or not RISING_EARLIEST_MINUTE <= minute < RISING_LATEST_MINUTE:
        return
    if event.room is Room.BEDROOM:
        today.rising_candidate_ts = -1.0  # back to bed: that was a night visit
        today.rising_count = 0
        return
    if event.room in NOT_UP_ROOMS:
        return
    if today.rising_candidate_ts < 0 or ts - today.rising_candidate_ts > RISING_WINDOW_S:
        today.rising_candidate_ts = ts
        today.rising_candidate_minute = minute
        today.rising_count = 0
    if event.room not in PASSAGE_ROOMS:
        today.rising_count += 1
    if today.rising_count >= RISING_EVENTS:
        today.rising_minute = today.rising_candidate_minute
