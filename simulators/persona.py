"""Personas: the rhythm of one person who lives alone, as parameters of the behaviour model.

Hours are local clock hours (the home's time zone); a bed time after midnight is written past 24
(25.5 = 01:30 the next day). Standard deviations are day-to-day variation. The three personas
follow the groups Korean welfare planners watch most (see docs/simulation.md):

* `older_regular` — an older woman with an early, regular day (up ~06:00, bed ~21:40), three
  meals at home, a walk or the senior centre most days, a nap, 1–2 night toilet visits;
* `middle_aged_man` — a man in his fifties, the main 고독사 risk group: irregular and late
  (bed ~01:30), skips meals (instant food: kettle, microwave), day-labour days away 10–12 h,
  evening drinking outings, now and then a night away;
* `limited_mobility` — someone who rarely leaves (a hospital visit now and then), rests a lot,
  moves slowly, naps long, visits the toilet often at night.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from simulators.core import Place


@dataclass(frozen=True, slots=True)
class Meal:
    name: str
    #: local hour at which cooking (or eating) starts
    hour: float
    sd_h: float
    #: chance the meal is eaten at home at all
    prob: float
    #: chance it is cooked (else cold food / leftovers eaten straight away)
    cook_prob: float
    cook_min: float
    eat_min: float
    eat_place: Place
    #: appliances the cooking may use, each with a chance: rice_cooker, kettle, microwave, toaster
    appliances: tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class Persona:
    name: str
    wake_h: float
    wake_sd_h: float
    bed_h: float
    bed_sd_h: float
    weekend_shift_h: float
    meals: tuple[Meal, ...]
    outings_weekday: float
    outings_weekend: float
    #: local-hour windows in which outings start, with weights
    outing_windows: tuple[tuple[float, float, float], ...]
    outing_median_min: float
    outing_sigma: float
    #: a weekday spent at work (day labour): leave ~work_leave_h for ~work_hours
    work_prob: float = 0.0
    work_leave_h: float = 6.5
    work_hours: float = 10.0
    #: an evening out that lasts until the next morning or noon
    overnight_away_prob: float = 0.0
    nap_prob: float = 0.3
    nap_h: float = 13.5
    nap_min: float = 40.0
    night_toilet_mean: float = 1.0
    toilet_every_h: float = 3.0
    shower_prob: float = 0.6
    shower_evening: bool = False
    #: shares of leisure time: TV in the living room, resting in the bedroom, chores
    tv_share: float = 0.5
    rest_share: float = 0.25
    chores_share: float = 0.25
    leisure_min: float = 35.0
    #: multiplier of movement rates (a frail person moves less)
    activity: float = 1.0
    #: spread of the day-to-day "mood" multiplier on activity (lognormal sigma)
    mood_sigma: float = 0.15
    #: blood-pressure checks a day (0, 1 or 2)
    health_checks: int = 0
    uses_oximeter: bool = False
    uses_pillbox: bool = False
    #: switches the AC on at home when the day's outdoor high exceeds this (None: never)
    ac_threshold_c: float | None = 30.0
    electric_mat: bool = True
    tv_asleep_prob: float = 0.0
    snack_prob: float = 0.15
    #: floor plans the persona is usually found in (chosen per household by seed)
    floor_plans: tuple[str, ...] = ("two_room",)

    def shifted(self, hours: float) -> Persona:
        """The same rhythm, moved by `hours` (a calibration aid; see docs/simulation.md)."""
        return replace(
            self,
            wake_h=self.wake_h + hours,
            bed_h=self.bed_h + hours,
            nap_h=self.nap_h + hours,
            work_leave_h=self.work_leave_h + hours,
            meals=tuple(replace(m, hour=m.hour + hours) for m in self.meals),
            outing_windows=tuple((a + hours, b + hours, w) for a, b, w in self.outing_windows),
        )


OLDER_REGULAR = Persona(
    name="older_regular",
    wake_h=5.9,
    wake_sd_h=0.3,
    bed_h=21.7,
    bed_sd_h=0.35,
    weekend_shift_h=0.15,
    meals=(
        Meal("breakfast", 6.8, 0.25, 0.97, 0.85, 20, 20, Place.KITCHEN,
             (("rice_cooker", 0.5), ("kettle", 0.5))),
        Meal("lunch", 12.0, 0.3, 0.8, 0.6, 15, 20, Place.KITCHEN,
             (("microwave", 0.4), ("kettle", 0.3))),
        Meal("dinner", 17.8, 0.3, 0.95, 0.9, 30, 25, Place.LIVING,
             (("rice_cooker", 0.6), ("microwave", 0.2))),
    ),
    outings_weekday=1.1,
    outings_weekend=0.9,
    outing_windows=((8.8, 11.0, 0.6), (14.3, 16.5, 0.4)),
    outing_median_min=80,
    outing_sigma=0.5,
    nap_prob=0.45,
    nap_h=13.3,
    nap_min=45,
    night_toilet_mean=1.0,
    toilet_every_h=4.0,
    shower_prob=0.5,
    tv_share=0.5,
    rest_share=0.2,
    chores_share=0.3,
    leisure_min=75,
    activity=0.9,
    health_checks=2,
    uses_pillbox=True,
    ac_threshold_c=31.0,
    electric_mat=True,
    tv_asleep_prob=0.02,
    snack_prob=0.12,
    floor_plans=("two_room", "apartment"),
)

MIDDLE_AGED_MAN = Persona(
    name="middle_aged_man",
    wake_h=9.8,
    wake_sd_h=1.3,
    bed_h=25.6,
    bed_sd_h=1.2,
    weekend_shift_h=0.8,
    meals=(
        Meal("breakfast", 10.3, 1.0, 0.35, 0.3, 8, 12, Place.LIVING, (("kettle", 0.6),)),
        Meal("lunch", 13.5, 1.0, 0.6, 0.6, 10, 15, Place.LIVING,
             (("kettle", 0.5), ("microwave", 0.5))),
        Meal("dinner", 20.0, 1.2, 0.7, 0.6, 12, 20, Place.LIVING,
             (("microwave", 0.6), ("kettle", 0.4), ("rice_cooker", 0.15))),
    ),
    outings_weekday=0.8,
    outings_weekend=1.0,
    outing_windows=((11.0, 16.0, 0.4), (19.0, 22.5, 0.6)),
    outing_median_min=150,
    outing_sigma=0.7,
    work_prob=0.35,
    work_leave_h=6.4,
    work_hours=10.5,
    overnight_away_prob=0.06,
    nap_prob=0.25,
    nap_h=15.0,
    nap_min=70,
    night_toilet_mean=0.4,
    toilet_every_h=3.5,
    shower_prob=0.45,
    shower_evening=True,
    tv_share=0.7,
    rest_share=0.25,
    chores_share=0.05,
    leisure_min=50,
    activity=0.8,
    mood_sigma=0.25,
    health_checks=0,
    ac_threshold_c=29.0,
    electric_mat=True,
    tv_asleep_prob=0.3,
    snack_prob=0.25,
    floor_plans=("one_room", "one_room", "two_room"),
)

LIMITED_MOBILITY = Persona(
    name="limited_mobility",
    wake_h=7.3,
    wake_sd_h=0.6,
    bed_h=21.2,
    bed_sd_h=0.8,
    weekend_shift_h=0.0,
    meals=(
        Meal("breakfast", 8.0, 0.5, 0.95, 0.4, 12, 25, Place.LIVING,
             (("microwave", 0.5), ("kettle", 0.4))),
        Meal("lunch", 12.3, 0.5, 0.9, 0.4, 10, 25, Place.LIVING,
             (("microwave", 0.6), ("rice_cooker", 0.2))),
        Meal("dinner", 17.7, 0.5, 0.9, 0.5, 15, 30, Place.LIVING,
             (("rice_cooker", 0.4), ("microwave", 0.5))),
    ),
    outings_weekday=0.07,
    outings_weekend=0.03,
    outing_windows=((9.5, 14.0, 1.0),),
    outing_median_min=180,
    outing_sigma=0.4,
    nap_prob=0.8,
    nap_h=13.5,
    nap_min=80,
    night_toilet_mean=2.3,
    toilet_every_h=2.2,
    shower_prob=0.2,
    tv_share=0.55,
    rest_share=0.4,
    chores_share=0.05,
    leisure_min=45,
    activity=0.5,
    mood_sigma=0.2,
    health_checks=2,
    uses_oximeter=True,
    uses_pillbox=True,
    ac_threshold_c=30.0,
    electric_mat=True,
    tv_asleep_prob=0.1,
    snack_prob=0.1,
    floor_plans=("two_room", "one_room"),
)

PERSONAS: dict[str, Persona] = {
    p.name: p for p in (OLDER_REGULAR, MIDDLE_AGED_MAN, LIMITED_MOBILITY)
}

#: the default fleet: most monitored people are older; the risk group is middle-aged men.
DEFAULT_MIX: tuple[tuple[str, float], ...] = (
    ("older_regular", 0.5),
    ("middle_aged_man", 0.3),
    ("limited_mobility", 0.2),
)


def parse_weights(spec: str) -> tuple[tuple[str, float], ...]:
    """`a=2,b=1` or a single name -> ((name, weight), ...); a missing weight is 1."""
    out: list[tuple[str, float]] = []
    for part in spec.split(","):
        name, _, w = part.strip().partition("=")
        try:
            weight = float(w) if w else 1.0
        except ValueError:
            raise ValueError(f"weight of {name!r} must be a number, not {w!r}") from None
        if weight < 0:
            raise ValueError(f"weight of {name!r} must not be negative")
        out.append((name, weight))
    return tuple(out)


def parse_persona_mix(spec: str) -> tuple[tuple[str, float], ...]:
    """`older_regular=2,limited_mobility=1` or a single name -> weights (unknown names raise)."""
    out = parse_weights(spec)
    for name, _ in out:
        if name not in PERSONAS:
            raise ValueError(f"unknown persona {name!r}; known: {', '.join(PERSONAS)}")
    return out
