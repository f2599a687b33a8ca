"""Learned norms: the limits each rule compares against, derived from a household's state.

Norms are recomputed once a local day (and after a restore) from the histograms and day
history in `HouseholdState`, so the per-tick checks are table look-ups. Every learned limit
is kept inside the safe bounds of `Thresholds`; before the learning period is over the
conservative defaults apply.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dagritme.models import AlertType, Room
from detector.config import Thresholds
from detector.state import (
    ALERT_INDEX,
    BLOCK_HOURS,
    GAP_EDGES_MIN,
    N_BLOCKS,
    ROOMS,
    TAIL_BIN,
    TAIL_FROM_MIN,
    HouseholdState,
)

# Blocks whose silences usually run through the night (20:00-06:00): cold-start night limit.
NIGHT_BLOCKS = frozenset(b for b in range(N_BLOCKS) if not 6 <= b * BLOCK_HOURS < 20)
# Blocks in which a silence after the bedroom may be sleep (20:00-08:00).
SLEEP_BLOCKS = frozenset(b for b in range(N_BLOCKS) if not 8 <= b * BLOCK_HOURS < 20)
BEDROOM = ROOMS.index(Room.BEDROOM)
_NIGHT_CONTEXT = np.array([[b in NIGHT_BLOCKS] * len(ROOMS) for b in range(N_BLOCKS)])
_SLEEP_CONTEXT = np.zeros((N_BLOCKS, len(ROOMS)), dtype=bool)
for _block in SLEEP_BLOCKS:
    _SLEEP_CONTEXT[_block, BEDROOM] = True
MIN_CONTEXT_SUPPORT = 30.0  # (decayed) gaps seen in a context before it stands on its own
MIN_HISTORY_FOR_QUANTILE = 5
SMALL_SAMPLE = 10
USUALLY_AWAKE = 0.5  # share of days with activity outside bed/bath rooms in that hour
TAIL_PRIOR_WEIGHT = 3.0  # pseudo-silences of the prior mean excess in each context
DEFAULT_MEAN_EXCESS_MIN = 30.0
MEAN_EXCESS_CAUTION = 0.5  # standard errors added to an estimated mean excess
LIGHTNESS_WEIGHT = 20.0  # pseudo-gaps at the block's share of gaps reaching 5 min
MIN_LIGHTNESS = 0.25
TAIL_FRACTION_WEIGHT = 20.0  # pseudo-silences at the prior share of silences >= 15 min
DEFAULT_TAIL_FRACTION = 0.05


@dataclass(frozen=True, slots=True)
class RisingNorm:
    """Not up by `limit_minute` is unusual; `usual_minute` is the p90 rising time (the latest
    seen while days are few), None while the safe default applies."""

    limit_minute: int
    usual_minute: int | None = None
    on_days: int = 0
    days: int = 0
    day_kind: str = ""  # "" all days, "weekdays" or "weekend days" when learned apart
    partial: bool = False  # cold start: the default pulled towards the risings seen so far


@dataclass(frozen=True, slots=True)
class BedtimeNorm:
    """In bed by `usual_minute` (p90, minutes after local noon) on `on_nights` of `nights`."""

    usual_minute: int
    on_nights: int
    nights: int


@dataclass(slots=True)
class Norms:
    """Current limits of one household (minutes unless named otherwise)."""

    learned: bool
    progress: float
    inactivity_limit: npt.NDArray[np.float64]  # [block, room]
    inactivity_usual: npt.NDArray[np.float64]  # longest common silence, for messages
    inactivity_context_days: float
    rising: tuple[RisingNorm, RisingNorm]  # [weekday, weekend]
    bathroom_limit: float
    not_returned_limit: float
    away_usual: float | None
    night_door_rare: npt.NDArray[np.bool_]  # [hour]
    door_nights_per_20: npt.NDArray[np.float64]  # [hour], how many of 20 nights
    restless_limit: int | None
    restless_usual: float | None
    bedtime: BedtimeNorm | None = None  # once learned from enough nights


def learning_progress(state: HouseholdState, th: Thresholds) -> float:
    return min(1.0, state.days_seen / th.learning_days)


def in_night(minute: int, th: Thresholds) -> bool:
    start, end = th.night_start_minute, th.night_end_minute
    if start <= end:
        return start <= minute < end
    return minute >= start or minute < end


def _factor(state: HouseholdState, kind: AlertType) -> float:
    return float(state.feedback_factor[ALERT_INDEX[kind]])


def _tail_levels(
    stacked: npt.NDArray[np.float64],
    excess: npt.NDArray[np.float64],
    prior_mean: npt.NDArray[np.float64],
    prior_fraction: npt.NDArray[np.float64],
    days: float,
    rate: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Silence length that starts less often than `rate` a day, per row, from an
    exponential tail beyond 15 min. Both the share of silences reaching 15 min and their
    mean excess are shrunk towards a prior (the block's, or the home's), so a context never
    seen silent for long still gets a sane limit. The empirical edge backs it up; whichever
    is longer counts."""
    n_tail = stacked[:, TAIL_BIN:].sum(axis=-1)
    n_all = stacked.sum(axis=-1)
    fraction = (n_tail + TAIL_FRACTION_WEIGHT * prior_fraction) / (n_all + TAIL_FRACTION_WEIGHT)
    mean_excess = (excess + TAIL_PRIOR_WEIGHT * prior_mean) / (n_tail + TAIL_PRIOR_WEIGHT)
    # a mean of few silences is uncertain: use a cautious (upper) value, not the point estimate
    mean_excess = mean_excess * (1.0 + MEAN_EXCESS_CAUTION / np.sqrt(n_tail + TAIL_PRIOR_WEIGHT))
    ratio = np.maximum(fraction * n_all / max(days, 1e-9) / rate, 1.0)
    extrapolated = TAIL_FROM_MIN + mean_excess * np.log(ratio)
    tail = np.cumsum(stacked[:, ::-1], axis=-1)[:, ::-1] / max(days, 1e-9)
    rare = tail[:, 1:] <= rate[:, None]
    empirical = np.where(rare.any(axis=-1), GAP_EDGES_MIN[1:][np.argmax(rare, axis=-1)], np.nan)
    level: npt.NDArray[np.float64] = np.fmax(extrapolated, empirical)
    return level


def _shrunk(tail: float, total: float, prior: float, weight: float) -> float:
    return (tail + weight * prior) / (total + weight)


def _lightness(
    hist: npt.NDArray[np.float64], pooled: npt.NDArray[np.float64], n_rooms: int
) -> npt.NDArray[np.float64]:
    """Per context, how often its gaps reach 5 min relative to its block (shrunk, 0.25..1).

    A context with thousands of gaps and none of even 5 min (moving about the kitchen) has a
    lighter tail than its block's pooled one (dozing in the living room), so the prior mean
    excess it borrows from the block is scaled down by this; at least a quarter is kept.
    """
    block_share = (pooled[:, 1:].sum(axis=-1) + 1.0) / (pooled.sum(axis=-1) + 1.0)
    prior = np.repeat(block_share, n_rooms)
    share = (hist[:, 1:].sum(axis=-1) + LIGHTNESS_WEIGHT * prior) / (
        hist.sum(axis=-1) + LIGHTNESS_WEIGHT
    )
    scaled: npt.NDArray[np.float64] = np.clip(share / prior, MIN_LIGHTNESS, 1.0)
    return scaled


def _split_budget(
    total_rate: float,
    support: npt.NDArray[np.float64],
    supported: npt.NDArray[np.bool_],
    mean_excess: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], float]:
    """Split the household's false-alarm budget (a day) over its contexts.

    A limit sits at `15 + mean_excess * log(n / rate)`, so giving a context more budget
    shortens its limit by `mean_excess` minutes per factor e. Minimising the expected time to
    alert, weighted by how likely a fall happens in each context (its share of activity),
    under a fixed total rate gives rate ~ share x mean_excess (a Lagrange condition). Each
    supported context keeps at least a quarter of an even split, so a quiet context is never
    starved into a near-infinite limit; the block-pooled fallback rows get an even share.
    """
    in_use = max(1, int(supported.sum()))
    even = total_rate / in_use
    weight = np.where(supported, support * mean_excess, 0.0)
    if weight.sum() <= 0:
        return np.full(support.shape, even), even
    floor = even / 4
    spare = total_rate - floor * in_use
    rate = np.where(supported, floor + spare * weight / weight.sum(), even)
    return rate, even


def _inactivity(
    state: HouseholdState, th: Thresholds, learned: bool
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float]:
    """Limits per [block, room] and the bathroom-stay level, in one vectorised pass (this
    runs for every home at its local midnight). Contexts with little data use their block's
    pooled level; every context borrows strength from its block, every block from the home."""
    n_rooms = len(ROOMS)
    n_contexts = N_BLOCKS * n_rooms
    hist = state.gap_hist.astype(np.float64).reshape(n_contexts, -1)
    excess = state.gap_excess.astype(np.float64).reshape(n_contexts)
    support = hist.sum(axis=-1)
    supported = support >= MIN_CONTEXT_SUPPORT
    days = state.days_decayed
    pooled = hist.reshape(N_BLOCKS, n_rooms, -1).sum(axis=1)  # [block, bins]: all rooms
    pooled_excess = excess.reshape(N_BLOCKS, n_rooms).sum(axis=1)
    everything = pooled.sum(axis=0)
    home_fraction = _shrunk(
        float(everything[TAIL_BIN:].sum()),
        float(everything.sum()),
        DEFAULT_TAIL_FRACTION,
        TAIL_FRACTION_WEIGHT,
    )
    pooled_tail = pooled[:, TAIL_BIN:].sum(axis=-1)
    block_fraction = (pooled_tail + TAIL_FRACTION_WEIGHT * home_fraction) / (
        pooled.sum(axis=-1) + TAIL_FRACTION_WEIGHT
    )
    block_mean = (pooled_excess + TAIL_PRIOR_WEIGHT * DEFAULT_MEAN_EXCESS_MIN) / (
        pooled_tail + TAIL_PRIOR_WEIGHT
    )
    context_prior_mean = np.repeat(block_mean, n_rooms) * _lightness(hist, pooled, n_rooms)
    context_rate, pooled_rate = _split_budget(
        th.inactivity_rate_per_day,
        support,
        supported,
        (excess + TAIL_PRIOR_WEIGHT * context_prior_mean)
        / (hist[:, TAIL_BIN:].sum(axis=-1) + TAIL_PRIOR_WEIGHT),
    )
    rows = np.concatenate([hist, pooled, state.bathroom_hist[None, :].astype(np.float64)])
    levels = _tail_levels(
        rows,
        np.concatenate([excess, pooled_excess, state.bathroom_excess.astype(np.float64)]),
        np.concatenate([context_prior_mean, np.full(N_BLOCKS + 1, DEFAULT_MEAN_EXCESS_MIN)]),
        np.concatenate(
            [
                np.repeat(block_fraction, n_rooms),
                np.full(N_BLOCKS, home_fraction),
                [DEFAULT_TAIL_FRACTION],
            ]
        ),
        days,
        np.concatenate(
            [context_rate, np.full(N_BLOCKS, pooled_rate), [th.inactivity_rate_per_day]]
        ),
    )
    own_level = levels[:n_contexts].reshape(N_BLOCKS, n_rooms)
    pooled_level = levels[n_contexts : n_contexts + N_BLOCKS]
    bath_level = levels[-1:]
    supported = supported.reshape(N_BLOCKS, n_rooms)
    pooled_ok = pooled.sum(axis=-1) >= MIN_CONTEXT_SUPPORT
    usual = np.where(
        supported,
        own_level.reshape(N_BLOCKS, len(ROOMS)),
        np.where(pooled_ok, pooled_level, np.nan)[:, None],
    )
    factor = _factor(state, AlertType.INACTIVITY)
    if learned:
        limits = np.where(np.isnan(usual), th.inactivity_max_minutes, usual * th.inactivity_margin)
    else:
        limits = np.where(
            _NIGHT_CONTEXT, th.inactivity_default_night_minutes, th.inactivity_default_day_minutes
        )
        usual = np.full_like(usual, np.nan)
    floors = np.where(
        _SLEEP_CONTEXT,
        max(th.inactivity_min_minutes, th.inactivity_sleep_min_minutes),
        th.inactivity_min_minutes,
    )
    # feedback scales the bounded limit, so it also moves limits sitting on their floor
    limits = np.minimum(
        np.maximum(np.maximum(limits, floors) * factor, floors), th.inactivity_max_minutes
    )
    return limits, usual, float(bath_level[0])


@functools.lru_cache(maxsize=16)
def _night_hours(start: int, end: int) -> npt.NDArray[np.bool_]:
    if start <= end:
        return np.array([start <= hour * 60 < end for hour in range(24)])
    return np.array([hour * 60 >= start or hour * 60 < end for hour in range(24)])


def quantile(values: npt.NDArray[np.int32] | npt.NDArray[np.float32], q: float) -> float:
    """Linear-interpolated quantile of a short array (np.percentile is slow on tiny input)."""
    ordered = sorted(values.tolist())
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


def _valid(history: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
    return history[history >= 0]


def _rising_limit(risings: npt.NDArray[np.int32], th: Thresholds, factor: float) -> tuple[int, int]:
    """(usual, limit): the p90 rising time (the latest one while days are few), and it plus a
    margin that widens for a resident whose rising time varies a lot (p90 - p10)."""
    level = 0.9 if len(risings) >= SMALL_SAMPLE else 1.0
    usual = int(math.ceil(quantile(risings, level) / 5) * 5)
    spread = quantile(risings, 0.9) - quantile(risings, 0.1)
    margin = max(th.not_up_margin_minutes, spread) * factor
    limit = min(max(usual + margin, th.not_up_earliest_minute), th.not_up_latest_minute)
    return usual, int(limit)


def _rising(state: HouseholdState, th: Thresholds, learned: bool, *, weekend: bool) -> RisingNorm:
    """Rising norm for weekdays or weekend days; all days together while one kind is thin."""
    valid = state.hist_rising >= 0
    same_kind = valid & (state.hist_weekend == int(weekend))
    day_kind = "weekend days" if weekend else "weekdays"
    if same_kind.sum() < MIN_HISTORY_FOR_QUANTILE:
        same_kind, day_kind = valid, ""
    risings = state.hist_rising[same_kind]
    factor = _factor(state, AlertType.NOT_UP)
    if not learned or len(risings) < MIN_HISTORY_FOR_QUANTILE:
        return cold_start_rising(state.hist_rising[valid], th, factor)
    usual, limit = _rising_limit(risings, th, factor)
    return RisingNorm(limit, usual, int((risings <= usual).sum()), len(risings), day_kind)


def cold_start_rising(
    risings: npt.NDArray[np.int32], th: Thresholds, factor: float = 1.0
) -> RisingNorm:
    """Before the rhythm is learned: the safe default limit, pulled towards the limit the
    risings seen so far give, by n / (n + prior days) for n risings. Never later than the
    default, so a late riser's first days are judged as before; and never later than the
    fixed rule's 10:00 (the cap) when the risings seen give an earlier limit, so an early
    riser's missing morning is noticed no later than that rule would.

    >>> th = Thresholds()
    >>> cold_start_rising(np.array([330], dtype=np.int32), th).limit_minute  # one day: default
    660
    >>> norm = cold_start_rising(np.array([330, 345, 320], dtype=np.int32), th)
    >>> norm.limit_minute, norm.usual_minute, norm.partial  # 0.6 of the way from 11:00 to 07:00
    (516, 345, True)
    """
    default = th.not_up_default_minute
    n = len(risings)
    if n < th.not_up_cold_start_min_risings:
        return RisingNorm(default)
    usual, learned_limit = _rising_limit(risings, th, factor)
    if learned_limit >= default:
        return RisingNorm(default)
    weight = n / (n + th.not_up_cold_start_prior_days)
    limit = math.ceil(default + weight * (learned_limit - default))
    # risings seen well before the fixed rule's time: never wait longer than that rule would
    limit = min(limit, max(learned_limit, th.not_up_cold_start_cap_minute))
    return RisingNorm(limit, usual, int((risings <= usual).sum()), n, partial=True)


def _outing_tail(aways: npt.NDArray[np.float32], rate: float) -> float:
    """Outing length passed by `rate` of outings, from an exponential tail beyond the median.

    p95 x 1.5 of some 30 outings alone is passed by the odd long visit about once a month;
    the tail fit uses how far the longer half of the outings spreads.
    """
    median = quantile(aways, 0.5)
    longer = aways[aways > median]
    if len(longer) == 0:
        return median
    mean_excess = float(np.mean(longer)) - median
    return median + mean_excess * math.log(0.5 / rate)


def compute_norms(state: HouseholdState, th: Thresholds) -> Norms:
    progress = learning_progress(state, th)
    learned = progress >= 1.0
    inactivity_limit, inactivity_usual, bathroom_edge = _inactivity(state, th, learned)

    rising = (
        _rising(state, th, learned, weekend=False),
        _rising(state, th, learned, weekend=True),
    )

    bathroom_limit = th.bathroom_max_minutes
    if learned:
        if not math.isnan(bathroom_edge):
            bathroom_limit = (
                bathroom_edge * th.inactivity_margin * _factor(state, AlertType.BATHROOM_LONG)
            )
        if bathroom_limit > th.bathroom_max_minutes:
            # stays this home's sensors cannot delimit (the next room has no sensor): the
            # inactivity rule covers a silence after the bathroom instead
            bathroom_limit = math.inf
        bathroom_limit = max(bathroom_limit, th.bathroom_min_minutes)

    aways = state.away_minutes[~np.isnan(state.away_minutes)]
    away_usual: float | None = None
    not_returned = th.not_returned_default_minutes
    if learned and len(aways) >= MIN_HISTORY_FOR_QUANTILE:
        away_usual = quantile(aways, 0.95)
        not_returned = max(away_usual * 1.5, _outing_tail(aways, th.not_returned_rate_per_outing))
        not_returned *= _factor(state, AlertType.NOT_RETURNED)
        not_returned = min(
            max(not_returned, th.not_returned_min_minutes), th.not_returned_max_minutes
        )

    door_rate = state.door_hour_hist.astype(np.float64) / max(state.nights_decayed, 1e-9)
    night_hours = _night_hours(th.night_start_minute, th.night_end_minute)
    door_rare = night_hours.copy()
    if learned:
        tolerated = th.night_door_rate_per_day * _factor(state, AlertType.NIGHT_DOOR)
        # a night owl still up at 00:30 may go out; the door matters when they usually sleep
        awake_rate = state.awake_hour_hist.astype(np.float64) / max(state.nights_decayed, 1e-9)
        door_rare = night_hours & (door_rate < tolerated) & (awake_rate < USUALLY_AWAKE)

    nights = _valid(state.hist_night_minutes)
    restless_limit: int | None = None
    restless_usual: float | None = None
    if learned and len(nights) >= MIN_HISTORY_FOR_QUANTILE:
        restless_usual = quantile(nights, 0.9)
        factor = _factor(state, AlertType.NIGHT_RESTLESS)
        restless_limit = int(max(th.restless_min_minutes, (restless_usual * 1.5 + 10) * factor))

    bedtimes = _valid(state.hist_bedtime)
    bedtime: BedtimeNorm | None = None
    if learned and len(bedtimes) >= MIN_HISTORY_FOR_QUANTILE:
        in_bed_by = int(math.ceil(quantile(bedtimes, 0.9) / 5) * 5)
        bedtime = BedtimeNorm(in_bed_by, int((bedtimes <= in_bed_by).sum()), len(bedtimes))

    return Norms(
        learned=learned,
        progress=progress,
        inactivity_limit=inactivity_limit,
        inactivity_usual=inactivity_usual,
        inactivity_context_days=state.days_decayed,
        rising=rising,
        bathroom_limit=bathroom_limit,
        not_returned_limit=not_returned,
        away_usual=away_usual,
        night_door_rare=door_rare,
        door_nights_per_20=np.minimum(door_rate, 1.0) * 20,
        restless_limit=restless_limit,
        restless_usual=restless_usual,
        bedtime=bedtime,
    )
