"""What the behaviour model produces: plans of episodes, happenings and loads; day modifiers.

A `Plan` covers [start, end) — from waking (or coming home) to the next waking — with

* episodes — (start, end, Act, Place), back to back, covering the whole span;
* happenings — discrete things the person does that a device may see: the exterior door,
  the fridge or a cupboard, a flush, a shower, a blood-pressure check, the SOS button;
* loads — appliances drawing power: (on, off, watts, name, cause_on, cause_off, opens, closes).

`DayMods` is how a scenario changes one day (a decline, a heat wave, abnormal vitals, a long
outing). Shared by the model (simulators.model), the devices and the incidents.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class What(enum.IntEnum):
    DOOR = 0  # arg: 1 open / 0 close (the exterior door)
    CONTACT = 1  # arg: TARGETS index; v1: 1 open / 0 close
    WATER = 2  # arg: WATER_EVENTS index; v1: litres
    HEALTH = 3  # arg: 0 blood pressure (v1 sys, v2 dia, v3 pulse), 1 oximeter (v1 spo2, v2 pulse)
    BUTTON = 4  # arg: BUTTON_ACTIONS index


TARGETS = ("fridge", "cupboard", "cabinet", "pillbox")
WATER_EVENTS = ("flush", "tap", "shower")
BUTTON_ACTIONS = ("sos", "ok", "cancel")

#: (t, what, arg, v1, v2, v3, cause)
Happening = tuple[float, int, int, float, float, float, int]
#: (on, off, watts, appliance, cause_on, cause_off, opens_session, closes_session)
Load = tuple[float, float, float, str, int, int, bool, bool]


@dataclass(frozen=True, slots=True)
class DayMods:
    """What a scenario changes about one day (defaults: an ordinary day)."""

    activity: float = 1.0
    outings: float = 1.0
    cooking: float = 1.0
    wake_delay_h: float = 0.0
    nap_extra: float = 0.0
    #: longer spells of sitting or lying, fewer chores and snacks (a decline)
    sedentary: float = 1.0
    no_cooling: bool = False
    abnormal_vitals: bool = False
    outdoor_max_c: float = 20.0
    outdoor_mean_c: float = 15.0
    #: a long outing (start, end) that begins on this day
    away: tuple[float, float] | None = None


@dataclass(slots=True)
class Plan:
    start: float
    end: float
    eps: list[tuple[float, float, int, int]] = field(default_factory=list)
    haps: list[Happening] = field(default_factory=list)
    loads: list[Load] = field(default_factory=list)
    #: movement-rate multiplier for the day (persona activity x mood x scenario)
    activity: float = 1.0
