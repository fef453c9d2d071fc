"""Upgrade safety: a state packed with an older layout is adopted field by field, so a home
keeps its learned rhythm and thresholds across an upgrade instead of warming up again."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from detectors import layouts, presence
from detectors.engine import Engine, HouseholdState
from detectors.state import REL_BASE
from detectors.synth import Day, Home

#: the layout stored by the first released detectors (commits 56df2de .. d47cc06)
OLDEST = 3560029639
#: the layout of the previous round (4f1f0c2 .. c645da8)
PREVIOUS = 1459511579
#: the layout of b9bff77 .. 73793dd (per-class outings, the waking time)
MAIN = 3584189433
#: decayed outings in the old outing histogram
OLD_OUTINGS = 12.0


def _learned() -> tuple[Engine, str, float]:
    """An engine that has watched a scripted home for ten days (past its warm-up)."""
    h = Home(days=10, seed=3, plan=lambda d: Day(wake=7.0 + 0.1 * (d % 3), bed=22.5,
                                                   outing=(10.0, 11.5) if d % 2 else None))
    e = Engine()
    e.add_household(h.household, h.timezone)
    rs = h.readings()
    k, t = 0, h.midnight(0)
    while t < h.midnight(10):
        t += 600.0
        batch = []
        while k < len(rs) and rs[k].time.timestamp() < t:
            batch.append(rs[k])
            k += 1
        e.observe(batch)
        e.evaluate(datetime.fromtimestamp(t, UTC))
    return e, h.household, t


def _as_layout(st: HouseholdState, fmt: int, e: Engine) -> HouseholdState:
    """What a previous version saved: the same values, packed with its record layout."""
    rec = layouts.records(fmt)
    assert rec is not None
    out = []
    for blob, cur, old in ((st.household, e.hh.record, rec[0]),
                           (st.devices, e.dv.record, rec[1])):
        now = np.frombuffer(blob, dtype=cur)
        packed = np.zeros(now.shape[0], dtype=old)
        for name in old.names:
            if name in cur.names and now[name].shape == packed[name].shape:
                packed[name] = now[name]
        if "pr_away" in old.names:  # until 73793dd: the outing's start, NaN at home
            packed["pr_away"] = np.where(now["pr_is_away"], now["pr_door"], np.nan)
            packed["pr_ret_t"] = now["pr_ret_at"].astype(np.float64) + REL_BASE
        if "pr_hist" in old.names:  # what the old code kept of the outings
            packed["pr_exits"] = now["pr_exits16"] / 16.0
            packed["pr_hist"][:, 8] = OLD_OUTINGS  # 2.7-3.8 h (bin k: 10 min x 2^(k/2))
        out.append(packed.tobytes())
    return replace(st, household=out[0], devices=out[1])


def test_the_current_layout_is_registered() -> None:
    e = Engine()
    fmt = e.state_format()
    assert fmt in layouts.KNOWN, "add the new layout to detectors/layouts.py (see its docstring)"
    hh, dv = layouts.KNOWN[fmt]
    assert hh == layouts.spec(e.hh.record) and dv == layouts.spec(e.dv.record)
    for f, (h, d) in layouts.KNOWN.items():
        assert layouts.format_of(layouts.record_of(h), layouts.record_of(d)) == f


@pytest.mark.parametrize("fmt", [OLDEST, PREVIOUS])
def test_a_state_saved_with_an_older_layout_keeps_its_learned_rhythm(fmt: int) -> None:
    e, hid, _t = _learned()
    st = e.export(hid)
    i = e.index(hid)
    assert i is not None and e.hh.a["in_days"][i] >= e.s.warmup_days
    old = _as_layout(st, fmt, e)
    assert old.household != st.household  # really another layout
    fresh = Engine()
    j = fresh.adopt(old, fmt=fmt)
    fields = set(layouts.record_of(layouts.KNOWN[fmt][0]).names)
    kept = 0
    for name in ("rh_n", "rh_e", "rh_cum", "rh_rcum", "rh_rest", "in_m", "in_h", "in_days",
                 "in_S", "in_tref", "sg_confirmed", "dh_created"):
        assert name in fields
        np.testing.assert_array_equal(fresh.hh.a[name][j], e.hh.a[name][i], err_msg=name)
        kept += 1
    assert kept == 12
    assert fresh.hh.a["in_days"][j] >= fresh.s.warmup_days  # still warm: no relearning
    # fields the old layout lacked take their defaults (or are derived, see presence.upgrade)
    for f in fresh.hh.fields:
        if f.name not in fields and f.name not in ("pr_out", "pr_exits16", "pr_is_away",
                                                   "pr_ret_at"):
            got = fresh.hh.a[f.name][j]
            assert np.all((got == f.fill) | (np.isnan(got) & np.isnan(f.fill))), f.name
    # derived: the exits per hour, and the outings (spread over the classes in proportion
    # to the exits: all at 10:00 here), so the overdue-return levels stay the person's own
    np.testing.assert_array_equal(fresh.hh.a["pr_exits16"][j], e.hh.a["pr_exits16"][i])
    # ... whether the person is out, and since when (a float64 `pr_away` until 73793dd)
    assert fresh.hh.a["pr_is_away"][j] == e.hh.a["pr_is_away"][i]
    assert fresh.hh.a["pr_door"][j] == e.hh.a["pr_door"][i]
    out = fresh.hh.a["pr_out"][j].astype(float)
    assert out[:, 0].sum() == pytest.approx(OLD_OUTINGS, rel=1e-3)
    assert out[1, 0] == pytest.approx(out[4, 0]) and out[1, 0] > 0  # 08-16 weekday/weekend
    assert out[[0, 2, 3, 5], 0].sum() == 0.0
    wed_10 = datetime(2026, 6, 10, 10, tzinfo=ZoneInfo("Asia/Seoul")).timestamp()
    h = presence.overdue_thresholds(out[None], fresh.hh.a["pr_back"][j][None],
                                    np.array([wed_10]), np.array([9 * 3600.0]),
                                    np.array([True]), fresh.s)[0] / 3600.0
    mid = 600.0 * 2 ** 4.25 / 3600.0  # the middle of bin 8, ~3.2 h
    sd = max(presence.OUT_SD_FLOOR_H / mid, presence.OUT_SD_FLOOR)
    assert h[1] == pytest.approx(max(presence.OUT_MIN_H[1], presence.OUT_TOP * mid,
                                     mid * math.exp(presence.OUT_Z[1] * sd)), rel=1e-2)
    assert h[1] < fresh.s.away_min_hours[1]  # not the fallback for homes with no outings
    # the devices came along too
    assert [fresh.dev_ids[k] for k in fresh._hh_devs[j]] == list(st.device_ids)
    np.testing.assert_array_equal(fresh.dv.a["dv_sign"][fresh._hh_devs[j]],
                                  e.dv.a["dv_sign"][e._hh_devs[i]])


def test_a_person_out_when_the_previous_layout_was_saved_is_still_out_after_it() -> None:
    """The layout before 2287221486 kept the outing's start as a float64 (`pr_ret_t` too):
    adopted, the person is still away since the same moment, with the same outings learned
    and the same overdue levels (no return times yet: those are learned afresh)."""
    e, hid, t = _learned()
    i = e.index(hid)
    left = t - 3 * 3600.0
    e.hh.a["pr_door"][i], e.hh.a["pr_is_away"][i] = left, True
    e.hh.a["pr_ret_at"][i] = np.float32(left + 3600.0 - REL_BASE)
    fresh = Engine()
    j = fresh.adopt(_as_layout(e.export(hid), MAIN, e), fmt=MAIN)
    assert presence.is_away(fresh.hh, j) and fresh.hh.a["pr_door"][j] == left
    assert fresh.hh.a["pr_ret_at"][j] == e.hh.a["pr_ret_at"][i]
    np.testing.assert_array_equal(fresh.hh.a["pr_out"][j], e.hh.a["pr_out"][i])
    assert fresh.hh.a["pr_back"][j, :, 0].sum() == 0.0
    args = (np.array([left]), np.array([9 * 3600.0]), np.array([True]), fresh.s)
    np.testing.assert_array_equal(
        presence.overdue_thresholds(fresh.hh.a["pr_out"][j : j + 1],
                                    fresh.hh.a["pr_back"][j : j + 1], *args),
        presence.overdue_thresholds(e.hh.a["pr_out"][i : i + 1],
                                    np.zeros_like(e.hh.a["pr_back"][i : i + 1]), *args))
    # at home: still at home
    e.hh.a["pr_is_away"][i] = False
    k = fresh.adopt(_as_layout(e.export(hid), MAIN, e), fmt=MAIN)
    assert not presence.is_away(fresh.hh, k)


def test_an_unknown_layout_is_refused_not_misread() -> None:
    e, hid, _t = _learned()
    st = e.export(hid)
    with pytest.raises(ValueError, match="unknown detector state layout"):
        Engine().adopt(st, fmt=12345)
    assert Engine().knows_format(OLDEST) and not Engine().knows_format(12345)
