"""Incidents: what happens to a plan when the person collapses, dies, falls or is taken away,
and `strip_person_after`, the same cut applied to any recording.

The rule is one and the same everywhere: from the incident on, nothing the person causes
happens any more — no movement, door, cupboard, flush, presence change, appliance switched,
health reading or button press, and no power step the person makes. Everything else goes on:
the fridge cycles, standby power, appliances left on keep drawing (a TV left on shows in the
watts, as background), the kettle still switches itself off, the room temperature drifts, the
gateway sends its heartbeat. A fall is the one exception by design: the person, on the floor,
still moves weakly in the bathroom for a while (the bathroom PIR may fire), then stops.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import orjson

from anbu.contract import BATCH_KIND, PERSON_KINDS, parse_topic
from simulators.core import Act, Cause, Message, Place
from simulators.plan import Plan, What

PERSON_INCIDENTS = ("collapse", "death_in_bed", "fall", "hospitalised", "sos")
P = int(Cause.PERSON)
_AWAKE_HOME = frozenset({Act.TOILET, Act.WASH, Act.SHOWER, Act.COOK, Act.EAT, Act.TV,
                         Act.REST, Act.CHORES})
_BATH = frozenset({Act.TOILET, Act.WASH, Act.SHOWER})


def find_moment(plan: Plan, kind: str, after: float, rng: np.random.Generator) -> float | None:
    """The moment of the incident in this plan, at or after `after` (None: not in this plan)."""
    for s, e, act, _place in plan.eps:
        if e <= after:
            continue
        lo = max(s, after)
        if kind == "death_in_bed":
            if act == Act.SLEEP and e - s >= 5400.0 and e - 1800.0 > lo + 1200.0:
                lo = max(lo, s + 1200.0)
                return lo + float(rng.random()) * (e - 1800.0 - lo)
        elif kind == "fall":
            if act in _BATH and s >= after and e - s > 60.0:
                return s + float(rng.uniform(20.0, min(90.0, 0.8 * (e - s))))
        elif act in _AWAKE_HOME:
            return lo + float(rng.random()) * 0.9 * (e - lo)
    return None


def cut(plan: Plan, t0: float, end: float) -> Place:
    """Stop the person at `t0`: keep what came before, DOWN until `end`. Returns the place."""
    eps: list[tuple[float, float, int, int]] = []
    place = int(Place.LIVING)
    for s, e, act, pl in plan.eps:
        if s >= t0:
            break
        eps.append((s, min(e, t0), act, pl))
        place = pl
    eps.append((t0, end, int(Act.DOWN), place))
    plan.eps = eps
    plan.haps = [h for h in plan.haps if h[6] != P or h[0] < t0]
    loads = []
    for ld in plan.loads:
        on, off, w, name, c_on, c_off, opens, closes = ld
        if c_on == P and on >= t0:
            continue
        if c_off == P and off > t0:
            off = math.inf
        loads.append((on, off, w, name, c_on, c_off, opens, closes))
    plan.loads = loads
    plan.end = end
    return Place(place)


@dataclass(frozen=True, slots=True)
class Applied:
    """An incident applied to a plan: the label's start, and what may still get through."""

    #: label start (millisecond precision, as labels are written)
    start: float
    #: from this time on no person-caused message passes...
    cut: float
    #: ...except, until `allow_until`, movement in the bathroom (a fall: moving weakly)
    allow_until: float | None = None


def apply(plan: Plan, kind: str, t0: float, end: float, rng: np.random.Generator) -> Applied:
    """Apply a person incident at `t0` (rounded to the millisecond) to `plan`."""
    t0 = round(t0, 3)
    if kind in ("collapse", "death_in_bed"):
        cut(plan, t0, end)
        return Applied(t0, t0)
    if kind == "sos":  # the press at t0 is the last thing the person does
        cut(plan, t0, end)
        plan.haps.append((t0, int(What.BUTTON), 0, 0.0, 0.0, 0.0, P))
        return Applied(t0, t0 + 1e-3)
    if kind == "fall":
        cut(plan, t0, end)
        moving = round(float(rng.uniform(10, 40)) * 60.0, 3)
        plan.eps[-1:] = [(t0, t0 + moving, int(Act.DOWN_MOVING), int(Place.BATHROOM)),
                         (t0 + moving, end, int(Act.DOWN), int(Place.BATHROOM))]
        return Applied(t0, t0, t0 + moving + 300.0)
    if kind == "hospitalised":  # taken away: leaves through the front door, never returns
        cut(plan, t0, end)
        gone = round(t0 + float(rng.uniform(120, 600)), 3)
        shut = round(gone + float(rng.uniform(4, 12)), 3)
        plan.eps[-1:] = [(t0, gone, int(Act.DOORWAY), int(Place.HALL)),
                         (gone, end, int(Act.OUT), int(Place.AWAY))]
        plan.haps += [(gone - 2.0, int(What.DOOR), 1, 0.0, 0.0, 0.0, P),
                      (shut, int(What.DOOR), 0, 0.0, 0.0, 0.0, P)]
        return Applied(shut + 1e-3, shut + 1e-3)
    raise ValueError(f"not a person incident: {kind!r}")


# -- the same cut on any recording ------------------------------------------------------
def is_person(msg: Message) -> bool:
    """Person-caused? The generator's marker when the message has one; otherwise by kind:
    every kind in anbu.contract.PERSON_KINDS (motion, door, contact, appliance, presence,
    water, health, button) is the person's, power/env/status are background."""
    if msg.cause != Cause.UNKNOWN:
        return msg.cause == Cause.PERSON
    t = parse_topic(msg.topic)
    return t is not None and t.kind in PERSON_KINDS


def strip_person_after(messages: Iterable[Message], household: str, t0: float
                       ) -> Iterator[Message]:
    """`messages` without what the person of `household` caused at or after `t0` ("inject an
    incident" into a normal recording). Decided by publish time `t`; other households and all
    background messages pass unchanged. A gateway batch (unmarked) keeps its non-person items."""
    for m in messages:
        if m.t < t0:
            yield m
            continue
        t = parse_topic(m.topic)
        if t is None or t.household_id != household:
            yield m
        elif t.kind == BATCH_KIND and m.cause == Cause.UNKNOWN:
            items = orjson.loads(m.payload)
            kept = [i for i in items if not (isinstance(i, dict) and i.get("kind") in PERSON_KINDS)]
            if kept:
                yield m._replace(payload=orjson.dumps(kept))
        elif not is_person(m):
            yield m
