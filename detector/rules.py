"""Alert rules as data: each rule is a frozen dataclass with a check function, in a list.

Tick rules run on every tick (time-based: silence, not up, out too long); event rules run
on each event (front door at night); auto-resolvers close an open alert when an event shows
that activity resumed. Every message says what is usual and what happened.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from dagritme.models import AlertType, Event, Evidence, Room, Severity
from dagritme.rhythm import NOT_UP_ROOMS, RISING_LATEST_MINUTE, minute_clock
from detector.alerts import (
    Finding,
    clock,
    duration,
    usual_bathroom,
    usual_nights,
    usual_outings,
    usual_rising,
)
from detector.config import Thresholds
from detector.learning import (
    WEEKEND_FROM,
    WET_INDEXES,
    WET_ROOMS,
    Home,
    is_presence,
)
from detector.state import ROOMS, HouseholdState

OCCUPIED_RECENTLY_S = 15 * 60  # bathroom_long: still moving in there, not just silent


@dataclass(frozen=True, slots=True)
class TickContext:
    home: Home
    now: datetime
    now_ts: float
    local: datetime
    minute: int
    th: Thresholds
    away: bool
    gateway_down: bool


@dataclass(frozen=True, slots=True)
class EventContext:
    home: Home
    event: Event
    local: datetime
    th: Thresholds


@dataclass(frozen=True, slots=True)
class TickRule:
    type: AlertType
    check: Callable[[TickContext], Finding | None]


@dataclass(frozen=True, slots=True)
class EventRule:
    type: AlertType
    check: Callable[[EventContext], Finding | None]


@dataclass(frozen=True, slots=True)
class AutoResolve:
    """An open alert of `type` resolves when `when(event, state)` holds (after learning)."""

    type: AlertType
    when: Callable[[Event, HouseholdState], bool]


def _room_name(room: Room) -> str:
    return {Room.LIVING: "living room", Room.OTHER: "other room"}.get(room, room.value)


def _learning_note(ctx: TickContext) -> str:
    state, th = ctx.home.state, ctx.th
    return (
        f"Still learning this home's rhythm ({min(state.days_seen, th.learning_days)} of "
        f"{th.learning_days} days), so a safe default limit applies"
    )


def _local(ctx: TickContext, ts: float) -> datetime:
    return datetime.fromtimestamp(ts, ctx.home.tz)


def check_inactivity(ctx: TickContext) -> Finding | None:
    state, norms = ctx.home.state, ctx.home.norms
    if ctx.away or ctx.gateway_down or math.isnan(state.last_presence_ts):
        return None
    silence = (ctx.now_ts - state.last_presence_ts) / 60
    block, room_index = state.last_presence_block, state.last_presence_room
    limit = float(norms.inactivity_limit[block, room_index])
    if silence < limit:
        return None
    room = ROOMS[room_index]
    since = clock(_local(ctx, state.last_presence_ts))
    observed = f"No movement for {duration(silence)}, since {since} in the {_room_name(room)}"
    blind = sorted({*state.silent_sensors, *state.offline_sensors})
    if blind:
        # a mute sensor hides movement: say so rather than let it pass for a still resident
        observed += f" (not reporting: {', '.join(blind)}; movement there is not seen)"
    usual_edge = float(norms.inactivity_usual[block, room_index])
    if norms.learned and not math.isnan(usual_edge):
        # rounded down: the alert fires at the unrounded limit, and the message must never
        # state a rare length longer than the silence it reports
        usual_edge = max(5.0, math.floor(min(usual_edge, silence) / 5) * 5.0)
        usual = (
            f"Usually, after activity in the {_room_name(room)} at this time of day, a quiet "
            f"spell of {duration(usual_edge)} or more happens less than once a month"
        )
    elif norms.learned:
        usual = f"Quiet spells here vary a lot, so the upper limit of {duration(limit)} applies"
    else:
        usual = f"{_learning_note(ctx)} ({duration(limit)})"
    return Finding(
        AlertType.INACTIVITY,
        Severity.URGENT,
        f"{usual}; {observed[0].lower()}{observed[1:]}.",
        Evidence(
            sensors=[state.last_presence_sensor] if state.last_presence_sensor else [],
            rooms=[room],
            usual=usual,
            observed=observed,
            figures={"silence_min": round(silence, 1), "limit_min": round(limit, 1)},
            last_activity=datetime.fromtimestamp(state.last_presence_ts, ctx.now.tzinfo),
        ),
    )


def check_not_up(ctx: TickContext) -> Finding | None:
    state = ctx.home.state
    norm = ctx.home.norms.rising[int(ctx.local.weekday() >= WEEKEND_FROM)]
    if (
        ctx.away
        or ctx.gateway_down
        or state.today.rising_minute >= 0
        or state.not_up_day == state.day_ordinal
        or math.isnan(state.last_presence_ts)
        or not norm.limit_minute <= ctx.minute < RISING_LATEST_MINUTE
        or ctx.now_ts - state.last_presence_ts > 86400
    ):
        return None
    observed = f"no movement outside the bedroom and bathroom yet at {clock(ctx.local)}"
    if norm.partial and norm.usual_minute is not None:
        learning = min(state.days_seen, ctx.th.learning_days)
        usual = (
            f"Still learning this home's rhythm ({learning} of {ctx.th.learning_days} days); "
            f"so far up by {minute_clock(norm.usual_minute)} on {norm.on_days} of "
            f"{norm.days} days, so the limit moved from the safe default "
            f"{minute_clock(ctx.th.not_up_default_minute)} to {minute_clock(norm.limit_minute)}"
        )
    elif norm.usual_minute is not None:
        usual = usual_rising(norm.usual_minute, norm.on_days, norm.days, norm.day_kind)
    else:
        usual = f"{_learning_note(ctx)} (up by {minute_clock(norm.limit_minute)})"
    return Finding(
        AlertType.NOT_UP,
        Severity.WARNING,
        f"{usual}; {observed}.",
        Evidence(
            rooms=list(NOT_UP_ROOMS),
            usual=usual,
            observed=observed,
            figures={"limit_minute": float(norm.limit_minute)},
            last_activity=datetime.fromtimestamp(state.last_presence_ts, ctx.now.tzinfo),
        ),
    )


def check_bathroom_long(ctx: TickContext) -> Finding | None:
    state, norms = ctx.home.state, ctx.home.norms
    if (
        ctx.away
        or ctx.gateway_down
        or state.stay_room not in WET_INDEXES
        or state.last_presence_room != state.stay_room
        or ctx.now_ts - state.last_presence_ts > OCCUPIED_RECENTLY_S
    ):
        return None  # a silence after the bathroom is the inactivity rule's to judge
    stay = (ctx.now_ts - state.stay_start_ts) / 60
    if stay < norms.bathroom_limit:
        return None
    observed = (
        f"in the bathroom for {duration(stay)}, since {clock(_local(ctx, state.stay_start_ts))}"
    )
    usual = usual_bathroom(norms.bathroom_limit)
    return Finding(
        AlertType.BATHROOM_LONG,
        Severity.URGENT,
        f"{usual}; {observed}.",
        Evidence(
            rooms=[ROOMS[state.stay_room]],
            usual=usual,
            observed=observed,
            figures={"stay_min": round(stay, 1), "limit_min": round(norms.bathroom_limit, 1)},
        ),
    )


def check_not_returned(ctx: TickContext) -> Finding | None:
    state, norms = ctx.home.state, ctx.home.norms
    if not ctx.away or ctx.gateway_down:
        return None
    left = state.last_presence_ts if math.isnan(state.away_since_ts) else state.away_since_ts
    out = (ctx.now_ts - left) / 60
    if out < norms.not_returned_limit:
        return None
    observed = f"out since {clock(_local(ctx, left))}, {duration(out)} ago"
    if norms.away_usual is not None:
        usual = usual_outings(norms.away_usual)
    else:
        usual = f"{_learning_note(ctx)} ({duration(norms.not_returned_limit)})"
    return Finding(
        AlertType.NOT_RETURNED,
        Severity.WARNING,
        f"{usual}; {observed}.",
        Evidence(
            sensors=[state.last_presence_sensor],
            rooms=[Room.ENTRANCE],
            usual=usual,
            observed=observed,
            figures={"out_min": round(out, 1), "limit_min": round(norms.not_returned_limit, 1)},
        ),
    )


def check_night_restless(ctx: TickContext) -> Finding | None:
    state, norms = ctx.home.state, ctx.home.norms
    limit = norms.restless_limit
    if limit is None or ctx.minute < ctx.th.night_end_minute or ctx.gateway_down:
        return None
    active = state.today.night_minutes
    if active <= limit:
        return None
    usual = usual_nights(norms.restless_usual or 0.0)
    observed = f"last night {active} active minutes"
    return Finding(
        AlertType.NIGHT_RESTLESS,
        Severity.INFO,
        f"{usual}; {observed}.",
        Evidence(usual=usual, observed=observed, figures={"night_minutes": float(active)}),
    )


def check_gateway_offline(ctx: TickContext) -> Finding | None:
    since = ctx.home.state.gateway_offline_since
    if math.isnan(since):
        return None
    down = (ctx.now_ts - since) / 60
    if down < ctx.th.gateway_grace_minutes:
        return None
    observed = f"the home gateway has been offline since {clock(_local(ctx, since))}"
    return Finding(
        AlertType.GATEWAY_OFFLINE,
        Severity.WARNING,
        f"No sensor data arrives: {observed} ({duration(down)}); the other checks are paused.",
        Evidence(usual="The gateway is normally always online", observed=observed),
    )


def check_night_door(ctx: EventContext) -> Finding | None:
    event, norms = ctx.event, ctx.home.norms
    if not (event.is_exterior_door and event.active) or not norms.night_door_rare[ctx.local.hour]:
        return None
    observed = f"the front door opened at {clock(ctx.local)}"
    if norms.learned:
        nights = float(norms.door_nights_per_20[ctx.local.hour])
        usual = (
            f"At this hour the front door usually stays shut (opened on about {nights:.0f} of "
            "20 nights)"
        )
    else:
        usual = (
            f"The front door usually stays shut at night ("
            f"{minute_clock(ctx.th.night_start_minute)}-{minute_clock(ctx.th.night_end_minute)})"
        )
    return Finding(
        AlertType.NIGHT_DOOR,
        Severity.WARNING,
        f"{usual}; {observed}.",
        Evidence(sensors=[event.sensor], rooms=[event.room], usual=usual, observed=observed),
    )


TICK_RULES: list[TickRule] = [
    TickRule(AlertType.GATEWAY_OFFLINE, check_gateway_offline),
    TickRule(AlertType.INACTIVITY, check_inactivity),
    TickRule(AlertType.BATHROOM_LONG, check_bathroom_long),
    TickRule(AlertType.NOT_UP, check_not_up),
    TickRule(AlertType.NOT_RETURNED, check_not_returned),
    TickRule(AlertType.NIGHT_RESTLESS, check_night_restless),
]

EVENT_RULES: list[EventRule] = [EventRule(AlertType.NIGHT_DOOR, check_night_door)]


def _resumed(event: Event, state: HouseholdState) -> bool:
    return is_presence(event) and math.isnan(state.away_since_ts)


def _left_bathroom(event: Event, state: HouseholdState) -> bool:
    return _resumed(event, state) and event.room not in WET_ROOMS


def _back_inside(event: Event, state: HouseholdState) -> bool:
    return _resumed(event, state) and event.room is not Room.ENTRANCE


AUTO_RESOLVE: list[AutoResolve] = [
    AutoResolve(AlertType.INACTIVITY, _resumed),
    AutoResolve(AlertType.BATHROOM_LONG, _left_bathroom),
    AutoResolve(AlertType.NOT_UP, _resumed),
    AutoResolve(AlertType.NOT_RETURNED, _resumed),
    AutoResolve(AlertType.NIGHT_DOOR, _back_inside),
]
