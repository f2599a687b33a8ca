"""From stays to what each sensor notices: motion detections and door or contact changes.

Pure functions over `Stay` lists. Randomness comes from streams named after the stay and the
sensor (not from a shared generator), so the same stay is seen the same way whichever
window of time is simulated.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Iterable, Sequence

from dagritme.models import Kind, Room
from firmware_sim.devices import DeviceSpec
from firmware_sim.routine import Stay

# A motion sensor sees someone walk in almost always, but not quite.
ENTRY_DETECTION_P = 0.96
# Sitting (reading, television, dozing) is mostly still: a share of the gaps between movements
# are long pauses with a heavy tail, as in the daytime pauses of the real CASAS homes.
LONG_PAUSE_SIGMA = 1.1


def stable_rng(*parts: object) -> random.Random:
    """A cheap deterministic stream named by its parts (crc32: fast, stable across runs)."""
    return random.Random(zlib.crc32("|".join(map(str, parts)).encode()))


def stable_unit(*parts: object) -> float:
    """A deterministic number in [0, 1) named by its parts."""
    return zlib.crc32("|".join(map(str, parts)).encode()) / 2**32


def _next_gap(rng: random.Random, stay: Stay) -> float:
    """Seconds to the next movement: short fidgets, and for sitting now and then a long pause."""
    if stay.pause_s > 0 and rng.random() < stay.pause_p:
        return rng.lognormvariate(math.log(stay.pause_s), LONG_PAUSE_SIGMA)
    return rng.expovariate(1.0 / stay.stillness_s)


def motion_detections(spec: DeviceSpec, stays: Iterable[Stay], seed: int) -> list[float]:
    """Moments a motion sensor in `spec.room` registers movement."""
    times: list[float] = []
    for stay in stays:
        if stay.place is not spec.room:
            continue
        rng = stable_rng(seed, spec.sensor, stay.person, round(stay.start, 3))
        if rng.random() < ENTRY_DETECTION_P:
            times.append(stay.start + rng.uniform(0.2, 2.5))
        if math.isinf(stay.stillness_s) or stay.stillness_s <= 0:
            continue
        t = stay.start + _next_gap(rng, stay)
        while t < stay.end:
            times.append(t)
            t += _next_gap(rng, stay)
    times.sort()
    return times


def _by_person(stays: Iterable[Stay]) -> dict[int, list[Stay]]:
    people: dict[int, list[Stay]] = {}
    for stay in stays:
        people.setdefault(stay.person, []).append(stay)
    for seq in people.values():
        seq.sort(key=lambda s: s.start)
    return people


def exterior_door_changes(
    spec: DeviceSpec, stays: Iterable[Stay], seed: int
) -> list[tuple[float, bool]]:
    """(time, open?) of the front door: whenever someone passes between entrance and outside."""
    changes: list[tuple[float, bool]] = []
    for person, seq in _by_person(stays).items():
        for before, after in zip(seq, seq[1:], strict=False):
            leaving = before.place is Room.ENTRANCE and after.place is None
            arriving = before.place is None and after.place is Room.ENTRANCE
            if not (leaving or arriving):
                continue
            rng = stable_rng(seed, spec.sensor, person, round(after.start, 3))
            opened = after.start - rng.uniform(1.0, 4.0)
            changes.append((opened, True))
            changes.append((opened + rng.uniform(4.0, 14.0), False))
    changes.sort()
    return changes


def room_door_changes(
    spec: DeviceSpec, stays: Iterable[Stay], seed: int
) -> list[tuple[float, bool]]:
    """An interior door: opened to go in and closed behind, opened and closed to leave."""
    changes: list[tuple[float, bool]] = []
    for stay in stays:
        if stay.place is not spec.room or stay.end - stay.start < 30:
            continue
        rng = stable_rng(seed, spec.sensor, stay.person, round(stay.start, 3))
        for at in (stay.start, stay.end - 3.0):
            changes.append((at, True))
            changes.append((at + rng.uniform(2.0, 5.0), False))
    changes.sort()
    return changes


def item_contact_changes(
    spec: DeviceSpec, stays: Iterable[Stay], seed: int
) -> list[tuple[float, bool]]:
    """A contact on a cupboard or fridge: opened now and then while someone is in the room."""
    changes: list[tuple[float, bool]] = []
    for stay in stays:
        if stay.place is not spec.room or stay.end - stay.start < 60:
            continue
        rng = stable_rng(seed, spec.sensor, stay.person, round(stay.start, 3))
        # About one opening every ten minutes in the room, at least one per longer visit.
        t = stay.start + rng.uniform(10, 120)
        while t < stay.end - 20:
            changes.append((t, True))
            changes.append((t + rng.uniform(3.0, 25.0), False))
            t += 30 + rng.expovariate(1 / 600)
    changes.sort()
    return changes


def contact_changes(spec: DeviceSpec, stays: Sequence[Stay], seed: int) -> list[tuple[float, bool]]:
    if spec.kind is Kind.DOOR and spec.room is Room.ENTRANCE:
        return exterior_door_changes(spec, stays, seed)
    if spec.kind is Kind.DOOR:
        return room_door_changes(spec, stays, seed)
    return item_contact_changes(spec, stays, seed)
