"""The weekly slow-decline report (detectors.trend): counting signs per local day, weekly
means, and the decline flag."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from anbu.domain import Kind, Reading
from detectors import trend

TZ = "Asia/Seoul"
START = datetime(2026, 6, 1, tzinfo=ZoneInfo(TZ))  # a Monday


def _r(device: str, kind: Kind, t: datetime, value: float | None, **data: object) -> Reading:
    return Reading("hh-1", device, kind, t.astimezone(UTC), 1, value, data)


def _day_of_signs(day: int, per_hour: int, hours: range) -> list[Reading]:
    """`per_hour` fridge openings (reliable) in each of `hours` on local day `day`."""
    out = []
    for h in hours:
        for k in range(per_hour):
            t = START + timedelta(days=day, hours=h, minutes=4 * k)
            out.append(_r("contact-fridge", Kind.CONTACT, t, 1.0, open=True))
    return out


def test_signs_are_counted_per_local_day_deduplicated_and_noise_does_not_make_hours() -> None:
    act = trend.DailyActivity({"hh-1": TZ})
    t = START + timedelta(hours=23, minutes=59)  # 23:59 local: still day 0
    act.observe([
        _r("contact-fridge", Kind.CONTACT, t, 1.0, open=True),
        _r("contact-fridge", Kind.CONTACT, t + timedelta(seconds=30), 0.0, open=False),
        # a pet: two lone PIR triggers in one hour (under NOISY_HOUR): no active hour
        _r("pir-1", Kind.MOTION, START + timedelta(hours=3), 1.0, motion=True),
        _r("pir-1", Kind.MOTION, START + timedelta(hours=3, minutes=30), 1.0, motion=True),
        _r("pir-1", Kind.MOTION, START + timedelta(hours=3, minutes=31), 0.0, motion=False),
        _r("door-front", Kind.DOOR, START + timedelta(hours=10), 1.0, open=True,
           exterior=True),
        _r("door-front", Kind.DOOR, START + timedelta(hours=10, minutes=5), 0.0, open=False,
           exterior=True),
        _r("door-front", Kind.DOOR, START + timedelta(hours=12), 1.0, open=True,
           exterior=True),
        _r("gw-1", Kind.STATUS, START + timedelta(hours=5), None, online=True),
    ])
    d0 = act.days["hh-1"][date(2026, 6, 1)]
    # fridge once (its close within the refractory time), two PIR triggers, three doors
    assert (d0.signs, d0.reliable) == (6, 4)
    # active: 10:00 and 12:00 (doors) and 23:00 (fridge); 03:00 had noisy signs only
    assert d0.active_hours() == 3
    assert d0.exits == 2  # door at 10:00 and 10:05 is one exit, 12:00 another
    assert date(2026, 6, 2) not in act.days["hh-1"]


def _weeks(levels: list[int]) -> trend.DailyActivity:
    act = trend.DailyActivity({"hh-1": TZ})
    for w, per_hour in enumerate(levels):
        for d in range(7):
            act.observe(_day_of_signs(7 * w + d, per_hour, range(8, 20)))
    return act


def test_a_steady_home_is_not_declining() -> None:
    act = _weeks([5, 5, 5, 5, 5, 5])
    tr = trend.weekly_trend("hh-1", act.days["hh-1"], date(2026, 7, 12), weeks=6)
    assert [w.signs_per_day for w in tr.weeks] == [60.0] * 6
    assert [w.active_hours_per_day for w in tr.weeks] == [12.0] * 6
    assert tr.signs_change == 0.0 and not tr.declining
    assert "No sustained decline" in trend.describe(tr)


def test_a_slow_decline_is_flagged_and_described() -> None:
    act = _weeks([6, 6, 5, 5, 4, 4])  # 72 -> 48 signs a day: a third less
    tr = trend.weekly_trend("hh-1", act.days["hh-1"], date(2026, 7, 12), weeks=6)
    assert tr.signs_change == round(48 / 72 - 1, 3)
    assert tr.signs_slope is not None and tr.signs_slope < 0
    assert tr.declining
    assert tr.active_hours_change == 0.0  # the same hours, less done in them
    assert "signs of life down 33 %" in trend.describe(tr)
    d = tr.as_dict()
    assert d["declining"] is True and len(d["weeks"]) == 6


def test_a_small_dip_or_too_few_weeks_is_not_a_decline() -> None:
    act = _weeks([6, 6, 6, 6, 6, 6])
    # two weeks 10 % down (under DECLINE_SIGNS): not flagged
    for w in (4, 5):
        for d in range(7):
            day = act.days["hh-1"][date(2026, 6, 1) + timedelta(days=7 * w + d)]
            day.signs = int(day.signs * 0.9)
    tr = trend.weekly_trend("hh-1", act.days["hh-1"], date(2026, 7, 12), weeks=6)
    assert tr.signs_change is not None and -0.15 < tr.signs_change < 0
    assert not tr.declining
    short = trend.weekly_trend("hh-1", act.days["hh-1"], date(2026, 6, 21), weeks=3)
    assert short.signs_change is None and not short.declining
    assert "Not enough weeks" in trend.describe(short)


def test_days_without_any_sign_are_unobserved_not_inactive() -> None:
    act = _weeks([5, 5, 5, 5])
    days = dict(act.days["hh-1"])
    for d in range(4):  # the gateway was down four days of the last week
        days.pop(date(2026, 6, 22) + timedelta(days=d))
    ws = trend.weeks_of(days, date(2026, 6, 1), date(2026, 6, 28))
    assert [w.start for w in ws] == [date(2026, 6, 1), date(2026, 6, 8), date(2026, 6, 15)]
    assert np.allclose([w.signs_per_day for w in ws], 60.0)


def test_sign_kinds_are_every_kind_classify_can_count() -> None:
    """The job asks the database for SIGN_KINDS only (motion only when it triggered): no
    reading outside that filter may be a sign."""
    from detectors.signs import Sign, classify

    t = START.astimezone(UTC)
    for kind in Kind:
        for value in (None, 0.0, 1.0, 2.0, 230.5):
            sign = classify(Reading("hh-1", "d", kind, t, 1, value, {}))
            passes = kind in trend.SIGN_KINDS and (kind != Kind.MOTION or value == 1)
            assert sign == Sign.NONE or passes, (kind, value)


def test_a_day_survives_its_stored_counts() -> None:
    act = trend.DailyActivity({"hh-1": TZ})
    act.observe(_day_of_signs(0, 5, range(8, 12)))
    act.observe([_r("pir-1", Kind.MOTION, START + timedelta(hours=h, minutes=m), 1.0)
                 for h in (3, 4) for m in (0, 5, 10, 20)])
    d = act.days["hh-1"][date(2026, 6, 1)]
    assert d.hours is not None
    back = trend.day_from_counts(d.signs, d.reliable, d.exits, d.hours[:, 0].tolist(),
                                 d.hours[:, 1].tolist())
    assert (back.signs, back.reliable, back.exits) == (d.signs, d.reliable, d.exits)
    assert back.active_hours() == d.active_hours() == 6  # 8-11 reliable; 3 and 4 noisy bursts
    assert back.hours is not None and (back.hours == d.hours).all()


def test_decline_reasons_follow_the_flag() -> None:
    rng = np.random.default_rng(3)
    seen = set()
    for _ in range(200):
        levels = [int(x) for x in rng.integers(3, 9, size=6)]
        act = _weeks(levels)
        tr = trend.weekly_trend("hh-1", act.days["hh-1"], date(2026, 7, 12), weeks=6)
        reasons = trend.decline_reasons(tr)
        assert bool(reasons) == tr.declining, levels
        assert set(reasons) <= {"active_hours", "signs"}
        seen.add(reasons)
    assert ("signs",) in seen and () in seen
