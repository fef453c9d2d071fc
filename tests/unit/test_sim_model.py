"""The behaviour model: personas keep their rhythms, days vary, plans are well formed."""

from __future__ import annotations

import statistics

import numpy as np
import pytest

from simulators.core import Act, Cause, LocalCalendar
from simulators.fleet import DEFAULT_START
from simulators.home import build_home
from simulators.model import DayPlanner
from simulators.persona import PERSONAS, parse_persona_mix
from simulators.plan import DayMods, Plan


def _plans(persona: str, days: int, seed: int = 0) -> list[Plan]:
    rng = np.random.default_rng(seed)
    home = build_home("hh-t", PERSONAS[persona], rng, "standard")
    planner = DayPlanner(home, rng, DEFAULT_START)
    out = []
    while planner.t < DEFAULT_START + days * 86400.0:
        out.append(planner.next_plan(lambda d: DayMods()))
    return out


def _wake_hours(plans: list[Plan]) -> list[float]:
    cal = LocalCalendar("Asia/Seoul")
    out = []
    for p in plans:
        for s, _e, act, _ in p.eps:
            if act not in (Act.SLEEP, Act.OUT, Act.DOORWAY):
                out.append(cal.hour(s))
                break
    return out


@pytest.mark.parametrize("persona", sorted(PERSONAS))
def test_plans_are_contiguous_and_person_loads_inside(persona: str) -> None:
    plans = _plans(persona, 21)
    for a, b in zip(plans, plans[1:], strict=False):
        assert a.end == b.start
    for p in plans:
        assert p.eps[0][0] == p.start and p.eps[-1][1] == pytest.approx(p.end)
        for (_, e1, _, _), (s2, _, _, _) in zip(p.eps, p.eps[1:], strict=False):
            assert s2 == pytest.approx(e1)
        for on, off, *_rest, c_on, c_off, _o, _c in p.loads:
            if c_on == Cause.PERSON:
                assert p.start <= on <= p.end
            if c_off == Cause.PERSON:
                assert p.start <= off <= p.end + 1e-6


def test_older_regular_is_early_and_regular() -> None:
    older = _wake_hours(_plans("older_regular", 28))
    middle = _wake_hours(_plans("middle_aged_man", 28))
    assert 5.0 < statistics.median(older) < 7.0
    assert statistics.median(middle) > statistics.median(older) + 1.5
    assert statistics.pstdev(older) < statistics.pstdev(middle)
    assert statistics.pstdev(older) > 0.05  # but not a clockwork


def _share_out(plans: list[Plan]) -> float:
    total = sum(p.end - p.start for p in plans)
    return sum(e - s for p in plans for s, e, act, _ in p.eps if act == Act.OUT) / total


def test_who_goes_out() -> None:
    limited = _share_out(_plans("limited_mobility", 42))
    older = _share_out(_plans("older_regular", 42))
    middle = _share_out(_plans("middle_aged_man", 42))
    assert limited < 0.03 < older < middle
    # the middle-aged man is sometimes away for very long (work, a night out)
    longest = max(e - s for p in _plans("middle_aged_man", 42) for s, e, a, _ in p.eps
                  if a == Act.OUT)
    assert longest > 9 * 3600.0


def test_night_toilet_visits_and_meals() -> None:
    plans = _plans("older_regular", 28)
    acts = [a for p in plans for _, _, a, _ in p.eps]
    night_visits = sum(1 for a, b in zip(acts, acts[1:], strict=False)
                       if a == Act.SLEEP and b == Act.TOILET)
    assert 14 < night_visits < 60
    assert acts.count(Act.COOK) > 2 * 28
    flushes = [h for p in plans for h in p.haps if h[1] == 2 and h[2] == 0]
    assert 4 * 28 < len(flushes) < 10 * 28


def test_day_to_day_variation() -> None:
    plans = _plans("older_regular", 14)
    lengths = {round(p.end - p.start) for p in plans}
    assert len(lengths) == len(plans)


def test_persona_mix_parsing() -> None:
    assert parse_persona_mix("older_regular=2,limited_mobility") == (
        ("older_regular", 2.0), ("limited_mobility", 1.0))
    with pytest.raises(ValueError):
        parse_persona_mix("nobody")
