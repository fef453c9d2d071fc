"""Homes: a floor plan (logical places -> rooms), a sensor set, and the electrical load.

A floor plan maps the model's logical places (bedroom, living, kitchen, bathroom, hall) to the
rooms of a real flat; in a one-room flat (원룸) one PIR sees sleeping, cooking and the entrance.
A sensor set lists the devices and what each one sees: a room PIR sees every movement in its
room; a *spot* PIR (Ordonez' basin or cooktop sensors) only movements during some activities;
a doorway PIR only a share of them (`coverage`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from simulators.core import Act, Place
from simulators.persona import Persona


@dataclass(frozen=True, slots=True)
class FloorPlan:
    name: str
    #: room name for each Place (indexed by Place; AWAY maps to "")
    place_room: tuple[str, str, str, str, str, str]

    @property
    def rooms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r for r in self.place_room if r))


FLOOR_PLANS: dict[str, FloorPlan] = {
    p.name: p
    for p in (
        FloorPlan("one_room", ("room", "room", "room", "bathroom", "room", "")),
        FloorPlan("two_room", ("bedroom", "living", "living", "bathroom", "hall", "")),
        FloorPlan("apartment", ("bedroom", "living", "kitchen", "bathroom", "hall", "")),
    )
}


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """One device of a home. `kind` is a contract kind (anbu.domain.Kind value)."""

    id: str
    kind: str
    room: str
    exterior: bool = False
    #: contact: what it is on (fridge, cupboard, cabinet, pillbox)
    target: str | None = None
    #: presence: bed or seat
    place: str | None = None
    #: appliance plug: which appliance
    appliance: str | None = None
    #: spot PIR: only movements during these activities (empty: the whole room)
    acts: tuple[int, ...] = ()
    #: share of the room's movements this PIR sees
    coverage: float = 1.0
    #: a PIR over a doorway: sees every passage in or out, and `coverage` of the movements of
    #: busy activities in the room (cooking, chores), not someone sitting or lying still
    doorway: bool = False
    #: health: "bp" (blood pressure monitor) or "oximeter"
    metrics: str | None = None
    #: runs on a battery (reports battery status, can die)
    battery: bool = True

    def header(self) -> dict[str, object]:
        """The device as listed in a recording header (docs/recording.md)."""
        out: dict[str, object] = {
            "id": self.id,
            "kind": self.kind,
            "room": self.room,
            "exterior": self.exterior,
        }
        for name in ("target", "place", "appliance"):
            v = getattr(self, name)
            if v is not None:
                out[name] = v
        return out


@dataclass(frozen=True, slots=True)
class Home:
    household: str
    persona: Persona
    plan: FloorPlan
    devices: tuple[DeviceSpec, ...]
    timezone: str = "Asia/Seoul"
    sensors: str = "standard"
    standby_w: float = 40.0
    fridge_w: float = 100.0
    #: appliances the person owns (cooking chooses among these)
    appliances: frozenset[str] = field(default_factory=frozenset)
    has_ac: bool = True
    #: 10-minute meter/env cadence etc. are device settings, kept here for one place
    power_interval_s: float = 60.0

    def header(self) -> dict[str, object]:
        return {
            "id": self.household,
            "timezone": self.timezone,
            "persona": self.persona.name,
            "floor_plan": self.plan.name,
            "sensors": self.sensors,
            "devices": [d.header() for d in self.devices],
        }

    def room(self, place: Place) -> str:
        return self.plan.place_room[place]


_BATH_ACTS = (int(Act.WASH), int(Act.TOILET))


def _standard(persona: Persona, plan: FloorPlan, rng: np.random.Generator) -> list[DeviceSpec]:
    devs = [DeviceSpec(f"pir-{room}", "motion", room) for room in plan.rooms]
    hall = plan.place_room[Place.HALL]
    devs += [
        DeviceSpec("door-front", "door", hall, exterior=True),
        DeviceSpec("contact-fridge", "contact", plan.place_room[Place.KITCHEN], target="fridge"),
        DeviceSpec("bed-1", "presence", plan.place_room[Place.BEDROOM], place="bed"),
        DeviceSpec("water-bath", "water", plan.place_room[Place.BATHROOM], battery=False),
        DeviceSpec("plug-tv", "appliance", plan.place_room[Place.LIVING], appliance="tv",
                   battery=False),
        DeviceSpec("button-1", "button", plan.place_room[Place.BEDROOM]),
    ]
    if persona.uses_pillbox:
        devs.append(DeviceSpec("contact-pillbox", "contact", plan.place_room[Place.KITCHEN],
                               target="pillbox"))
    if persona.health_checks:
        devs.append(DeviceSpec("bp-1", "health", plan.place_room[Place.LIVING], metrics="bp"))
    if persona.uses_oximeter:
        devs.append(DeviceSpec("oxi-1", "health", plan.place_room[Place.BEDROOM],
                               metrics="oximeter"))
    if rng.random() < 0.5:
        devs.append(DeviceSpec("plug-rice", "appliance", plan.place_room[Place.KITCHEN],
                               appliance="rice_cooker", battery=False))
    return devs


def _minimal(persona: Persona, plan: FloorPlan, rng: np.random.Generator) -> list[DeviceSpec]:
    """The district kit most homes get: one PIR in the main room, the door, an SOS button."""
    main = plan.place_room[Place.LIVING]
    return [
        DeviceSpec(f"pir-{main}", "motion", main),
        DeviceSpec("door-front", "door", plan.place_room[Place.HALL], exterior=True),
        DeviceSpec("button-1", "button", main),
    ]


def _ordonez(doorway: bool) -> Callable[[Persona, FloorPlan, np.random.Generator],
                                        list[DeviceSpec]]:
    """The sensor sets of the two Ordonez homes (for the realism comparison)."""

    def build(persona: Persona, plan: FloorPlan, rng: np.random.Generator) -> list[DeviceSpec]:
        devs = [
            DeviceSpec("pir-basin", "motion", "bathroom", acts=_BATH_ACTS),
            DeviceSpec("pir-shower", "motion", "bathroom", acts=(int(Act.SHOWER),)),
            DeviceSpec("door-main", "door", "hall", exterior=True),
            DeviceSpec("contact-fridge", "contact", "kitchen", target="fridge"),
            DeviceSpec("contact-cupboard", "contact", "kitchen", target="cupboard"),
            DeviceSpec("water-toilet", "water", "bathroom"),
            DeviceSpec("bed-1", "presence", "bedroom", place="bed"),
            DeviceSpec("seat-1", "presence", "living", place="seat"),
            DeviceSpec("plug-microwave", "appliance", "kitchen", appliance="microwave"),
        ]
        if doorway:  # home B: PIRs over the doors of bedroom, kitchen and living room
            devs += [
                DeviceSpec(f"pir-door-{r}", "motion", r, coverage=0.25, doorway=True)
                for r in ("bedroom", "kitchen", "living")
            ]
        else:  # home A: a PIR over the cooktop, a bathroom cabinet, a toaster
            devs += [
                DeviceSpec("pir-cooktop", "motion", "kitchen", acts=(int(Act.COOK),)),
                DeviceSpec("contact-cabinet", "contact", "bathroom", target="cabinet"),
                DeviceSpec("plug-toaster", "appliance", "kitchen", appliance="toaster"),
            ]
        return devs

    return build


SENSOR_SETS: dict[str, Callable[[Persona, FloorPlan, np.random.Generator], list[DeviceSpec]]] = {
    "standard": _standard,
    "minimal": _minimal,
    "ordonez_a": _ordonez(doorway=False),
    "ordonez_b": _ordonez(doorway=True),
}

#: sensor sets of a default fleet: most homes have the standard kit, some the minimal one.
DEFAULT_SENSOR_MIX: tuple[tuple[str, float], ...] = (("standard", 0.8), ("minimal", 0.2))


def build_home(
    household: str,
    persona: Persona,
    rng: np.random.Generator,
    sensors: str = "standard",
    timezone: str = "Asia/Seoul",
    extra: tuple[DeviceSpec, ...] = (),
    floor_plan: str | None = None,
) -> Home:
    """A home for `persona`, drawn from `rng`: floor plan (the persona's usual ones unless
    `floor_plan` is given), devices, loads, appliances."""
    drawn = persona.floor_plans[int(rng.integers(len(persona.floor_plans)))]
    if sensors.startswith("ordonez"):
        drawn = "apartment"  # the Ordonez sensor sets name bedroom, living, kitchen, hall
    plan = FLOOR_PLANS[floor_plan or drawn]
    devs = SENSOR_SETS[sensors](persona, plan, rng)
    have = {d.id for d in devs}
    devs += [d for d in extra if d.id not in have]
    # every home: a whole-home power meter and a gateway (mains powered)
    devs += [
        DeviceSpec("plug-main", "power", plan.place_room[Place.KITCHEN], battery=False),
        DeviceSpec("env-1", "env", plan.place_room[Place.LIVING]),
        DeviceSpec("gw-1", "status", plan.place_room[Place.LIVING], battery=False),
    ]
    owned = {"rice_cooker", "kettle", "microwave", "tv", "lights"}
    if rng.random() < 0.3 or sensors == "ordonez_a":
        owned.add("toaster")
    has_ac = bool(rng.random() < 0.8) and persona.ac_threshold_c is not None
    if has_ac:
        owned.add("ac")
    if persona.electric_mat:
        owned.add("electric_mat")
    return Home(
        household=household,
        persona=persona,
        plan=plan,
        devices=tuple(devs),
        timezone=timezone,
        sensors=sensors,
        standby_w=float(rng.uniform(25, 65)),
        fridge_w=float(rng.uniform(80, 130)),
        appliances=frozenset(owned),
        has_ac=has_ac,
    )
