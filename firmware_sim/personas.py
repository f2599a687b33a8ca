"""Personas: who lives in a simulated home and which sensors the home has.

A persona is data: the resident's habits (rising and bedtime with their personal spread,
meals, naps, outings, night toilet visits, how still they sit) and the sensor layout. The
`typical` persona is calibrated against the real CASAS AL-Smarthome resident and
`early_riser` against the CASAS tm000 home (see `firmware_sim.calibration`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dagritme.models import Kind, Room
from firmware_sim.devices import DeviceSpec


@dataclass(frozen=True, slots=True)
class SensorSlot:
    """A sensor position in a layout; friendly name and sensor id derive from it."""

    name: str
    kind: Kind
    room: Room
    model: str

    def spec(self) -> DeviceSpec:
        return DeviceSpec(f"{self.name}_sensor", self.name, self.kind, self.room, self.model)


FRONT_DOOR = SensorSlot("front_door", Kind.DOOR, Room.ENTRANCE, "MCCGQ11LM")

LAYOUTS: dict[str, tuple[SensorSlot, ...]] = {
    # The smallest useful kit: where someone sleeps, washes, eats, and the way out.
    "sparse": (
        SensorSlot("bedroom_motion", Kind.MOTION, Room.BEDROOM, "E1745"),
        SensorSlot("bathroom_motion", Kind.MOTION, Room.BATHROOM, "RTCGQ11LM"),
        SensorSlot("kitchen_motion", Kind.MOTION, Room.KITCHEN, "RTCGQ11LM"),
        FRONT_DOOR,
    ),
    # The layout of the calibration homes: five motion sensors and the front door.
    "standard": (
        SensorSlot("bedroom_motion", Kind.MOTION, Room.BEDROOM, "RTCGQ11LM"),
        SensorSlot("bathroom_motion", Kind.MOTION, Room.BATHROOM, "RTCGQ11LM"),
        SensorSlot("kitchen_motion", Kind.MOTION, Room.KITCHEN, "SML001"),
        SensorSlot("living_motion", Kind.MOTION, Room.LIVING, "SML001"),
        SensorSlot("entrance_motion", Kind.MOTION, Room.ENTRANCE, "E1745"),
        FRONT_DOOR,
    ),
    "dense": (
        SensorSlot("bedroom_motion", Kind.MOTION, Room.BEDROOM, "SML001"),
        SensorSlot("bathroom_motion", Kind.MOTION, Room.BATHROOM, "RTCGQ11LM"),
        SensorSlot("toilet_motion", Kind.MOTION, Room.TOILET, "RTCGQ11LM"),
        SensorSlot("kitchen_motion", Kind.MOTION, Room.KITCHEN, "RTCGQ11LM"),
        SensorSlot("living_motion", Kind.MOTION, Room.LIVING, "SML001"),
        SensorSlot("hall_motion", Kind.MOTION, Room.HALL, "E1745"),
        SensorSlot("entrance_motion", Kind.MOTION, Room.ENTRANCE, "E1745"),
        FRONT_DOOR,
        SensorSlot("fridge_contact", Kind.CONTACT, Room.KITCHEN, "MCCGQ11LM"),
        SensorSlot("bathroom_door", Kind.DOOR, Room.BATHROOM, "MCCGQ11LM"),
    ),
}


@dataclass(frozen=True, slots=True)
class Persona:
    """A resident's habits; times are local hours of the day, spreads standard deviations."""

    name: str
    layout: str = "standard"
    rise_h: float = 8.1
    rise_sd_h: float = 0.35
    bed_h: float = 22.6
    bed_sd_h: float = 0.4
    weekend_shift_h: float = 0.3  # later up and later to bed on Saturday and Sunday
    night_toilet_mean: float = 2.2  # visits per night (Poisson), about 60 % before 05:00
    breakfast_min: float = 25.0
    lunch_h: float = 12.5
    dinner_h: float = 18.0
    meal_sd_h: float = 0.4
    errands_per_day: float = 13.0  # times getting up from the chair
    # Relative weights of what an errand is for.
    kitchen_snacks_per_day: float = 3.0
    bathroom_visits_per_day: float = 6.0
    bedroom_visits_per_day: float = 2.5
    doorstep_per_day: float = 2.5  # brief steps outside: post, bins, a neighbour
    potter_probability: float = 0.8  # after getting up from the chair, a few more rooms
    entrance_passby_probability: float = 0.15  # the way between two rooms passes the entrance
    nap_probability: float = 0.3
    nap_min: float = 45.0
    outing_probability_weekday: float = 0.7
    outing_probability_weekend: float = 0.4
    outing_h: float = 10.5
    outing_mean_min: float = 100.0
    # Mean seconds between movements a motion sensor can see, by activity.
    sleep_stillness_s: float = 900.0
    sitting_stillness_s: float = 60.0
    sitting_pause_s: float = 6000.0  # median of the long still pauses while sitting
    sitting_pause_probability: float = 0.2  # share of gaps between movements that are long
    busy_stillness_s: float = 35.0

    def devices(self) -> list[DeviceSpec]:
        return [slot.spec() for slot in LAYOUTS[self.layout]]


TYPICAL = Persona(name="typical")

PERSONAS: dict[str, Persona] = {
    p.name: p
    for p in (
        TYPICAL,
        replace(
            TYPICAL,
            name="early_riser",
            layout="dense",
            rise_h=6.4,
            rise_sd_h=0.6,
            bed_h=21.7,
            night_toilet_mean=1.0,
            lunch_h=12.0,
            dinner_h=17.5,
            errands_per_day=22.0,
            bathroom_visits_per_day=12.0,
            sitting_pause_s=3600.0,
            sitting_pause_probability=0.15,
            sleep_stillness_s=900.0,
            outing_h=9.5,
            outing_probability_weekday=0.2,
            outing_probability_weekend=0.2,
            outing_mean_min=45.0,
        ),
        replace(
            TYPICAL,
            name="night_owl",
            rise_h=9.6,
            rise_sd_h=0.6,
            bed_h=24.8,
            bed_sd_h=0.6,
            night_toilet_mean=0.8,
            lunch_h=13.5,
            dinner_h=19.5,
            outing_h=14.5,
            nap_probability=0.1,
        ),
        replace(TYPICAL, name="sparse", layout="sparse", rise_h=7.6, night_toilet_mean=1.8),
        replace(TYPICAL, name="dense", layout="dense", rise_h=7.3, bed_h=22.3),
    )
}


def persona(name: str) -> Persona:
    try:
        return PERSONAS[name]
    except KeyError as err:
        known = ", ".join(sorted(PERSONAS))
        raise ValueError(f"unknown persona {name!r} (known: {known})") from err
