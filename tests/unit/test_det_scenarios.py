"""The engine on a scripted, seeded home (detectors.synth): what it raises, and what not.

Nine ordinary days teach the engine this home (its warm-up is six days); the tenth day, a
Wednesday, holds the scenario. Everything is seeded, so the findings are exact.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from anbu.domain import Kind, Reading
from detectors.engine import Engine, HouseholdState
from detectors.state import REL_BASE
from detectors.synth import Day, Home

HISTORY_DAYS = 9
#: day-to-day variation of the person's rhythm (hours): nobody gets up at the same minute
WAKE = (7.0, 6.6, 7.3, 7.5, 6.8, 7.9, 7.1, 7.2, 6.7, 7.0, 7.0)
BED = (22.5, 22.9, 22.2, 23.1, 22.6, 22.0, 23.0, 22.4, 22.7, 22.5, 22.5)


def plan(d: int) -> Day:
    return Day(wake=WAKE[d], bed=BED[d], nap=(13.5, 14.3) if d % 2 else None,
               outing=(10.0, 11.5) if d % 3 == 0 else None)


def home(**kw: object) -> Home:
    h = Home(days=HISTORY_DAYS + 1, seed=11, plan=plan)
    return replace(h, **kw)  # type: ignore[arg-type]


BASE = home()
FORK = BASE.midnight(HISTORY_DAYS)  # Wednesday 00:00 in Seoul


def at(hour: float) -> float:
    return FORK + hour * 3600.0


def drive(engine: Engine, readings: list[Reading], start: float, end: float,
          tick: float = 300.0) -> list[tuple[float, str, str]]:
    """Observe in time order and evaluate every `tick`; (hours after FORK, kind, severity)."""
    out = []
    k = 0
    t = start
    while t < end:
        t += tick
        batch = []
        while k < len(readings) and readings[k].time.timestamp() < t:
            batch.append(readings[k])
            k += 1
        engine.observe(batch)
        for f in engine.evaluate(datetime.fromtimestamp(t, UTC)):
            out.append((round((t - FORK) / 3600.0, 3), f.kind, f.severity.label))
    return out


@pytest.fixture(scope="module")
def warm() -> HouseholdState:
    e = Engine()
    e.add_household(BASE.household, BASE.timezone)
    rs = [r for r in BASE.readings() if r.time.timestamp() < FORK]
    drive(e, rs, BASE.midnight(0), FORK, tick=600.0)
    return e.export(BASE.household)


def scenario(warm: HouseholdState, h: Home, hours: float = 24.0
             ) -> list[tuple[float, str, str]]:
    e = Engine()
    e.adopt(warm)
    rs = [r for r in h.readings() if r.time.timestamp() >= FORK]
    return drive(e, rs, FORK, FORK + hours * 3600.0)


def test_an_ordinary_day_raises_nothing(warm: HouseholdState) -> None:
    assert scenario(warm, BASE) == []


def test_a_nap_an_outing_and_a_lie_in_raise_no_escalated_alert(warm: HouseholdState) -> None:
    def day(d: int) -> Day:
        if d < HISTORY_DAYS:
            return plan(d)
        # up an hour later than ever before, a long nap, a long outing
        return Day(wake=8.9, bed=22.5, nap=(13.0, 14.5), outing=(15.5, 18.0))

    assert scenario(warm, home(plan=day)) == []


def test_a_collapse_in_the_afternoon_is_an_alarm_within_two_hours(
        warm: HouseholdState) -> None:
    found = scenario(warm, home(stop_at=at(15.0)), hours=20.0)
    assert found == [(15.75, "inactivity", "caution"), (15.917, "inactivity", "alarm"),
                     (16.333, "inactivity", "danger")]


def test_a_gateway_outage_is_a_device_alert_and_no_inactivity_alarm(
        warm: HouseholdState) -> None:
    found = scenario(warm, home(gateway_down=((at(9.0), at(17.0)),)))
    # the last will arrives at 09:01:30; offline for 10 minutes by the 09:15 tick
    assert found == [(9.25, "device.gateway_offline", "caution")]


def test_a_gateway_outage_while_the_person_collapses_waits_for_data(
        warm: HouseholdState) -> None:
    """The person stops at 12:00, the gateway dies at 12:20 for 4 h: no alarm about the
    person while nothing can be known, then the silence counts again from 16:20."""
    found = scenario(warm, home(stop_at=at(12.0), gateway_down=((at(12.33), at(16.33)),)))
    assert found == [(12.583, "device.gateway_offline", "caution"),
                     (16.417, "inactivity", "caution"), (16.75, "inactivity", "alarm"),
                     (17.25, "inactivity", "danger")]


def test_spurious_motion_does_not_keep_a_silent_home_alive() -> None:
    h = home(spurious_per_h=1.0, stop_at=at(15.0))
    e = Engine()
    e.add_household(h.household, h.timezone)
    found = drive(e, h.readings(), h.midnight(0), at(22.0), tick=600.0)
    assert [f for f in found if f[0] > 0] == [(15.667, "inactivity", "caution"),
                                              (15.833, "inactivity", "alarm"),
                                              (16.5, "inactivity", "danger")]


def test_a_stuck_pir_is_reported_and_ignored(warm: HouseholdState) -> None:
    found = scenario(warm, home(stuck=("pir-living", at(8.0)), stop_at=at(12.0)), hours=18.0)
    # stuck for 2 h at 10:00, seen at the 10-minute device check; then the collapse at noon
    assert found == [(10.083, "device.stuck", "caution"), (12.417, "inactivity", "caution"),
                     (12.833, "inactivity", "alarm"), (13.417, "inactivity", "danger")]


def test_leaving_and_not_coming_back_is_overdue_not_inactive(warm: HouseholdState) -> None:
    def day(d: int) -> Day:
        return plan(d) if d < HISTORY_DAYS else Day(outing=(10.0, 30.0))

    found = scenario(warm, home(plan=day, stop_at=at(10.01), days=HISTORY_DAYS + 2),
                     hours=36.0)
    # caution at 6 h, alarm at 16 h (the broad levels: only three outings on record), which
    # falls at 02:05, in the person's usual night: it is raised then, not at dawn
    assert found == [(16.083, "overdue_return", "caution"),
                     (26.083, "overdue_return", "alarm")]


def _one(kind: Kind, device: str, t: float, value: float | None, **data: object) -> Reading:
    return Reading(BASE.household, device, kind, datetime.fromtimestamp(t, UTC), 1, value,
                   data)


def _with(warm: HouseholdState, extra: list[Reading], hours: float = 6.0
          ) -> list[tuple[float, str, str]]:
    e = Engine()
    e.adopt(warm)
    rs = sorted([r for r in BASE.readings() if r.time.timestamp() >= FORK] + extra,
                key=lambda r: r.time)
    return drive(e, rs, FORK, FORK + hours * 3600.0)


def test_sos_is_danger_at_once(warm: HouseholdState) -> None:
    found = _with(warm, [_one(Kind.BUTTON, "button-1", at(3.01), 1.0, action="sos")])
    assert found == [(3.083, "sos", "danger")]


def test_low_battery(warm: HouseholdState) -> None:
    found = _with(warm, [_one(Kind.STATUS, "pir-living", at(2.0), 9.0, online=True,
                              role="device", battery_pct=9.0)])
    assert found == [(2.083, "device.low_battery", "caution")]


def test_indoor_heat(warm: HouseholdState) -> None:
    e = Engine()
    e.adopt(warm)
    hot = home(temp_c=34.0)
    rs = [r for r in hot.readings() if r.time.timestamp() >= FORK]
    found = drive(e, rs, FORK, FORK + 3 * 3600.0)
    # 34 °C from 00:00:42: past both limits for an hour at 01:00:42, found by this home's
    # next slow check (its stripe is due at :00, :10, :20 ... past each hour) at 01:10
    assert found == [(1.167, "heat", "alarm")]


def test_vitals_outside_the_residents_range(warm: HouseholdState) -> None:
    bp = [_one(Kind.HEALTH, "bp-1", at(8.0) + 60.0 * k, None, systolic_mmhg=128 + k % 3,
               diastolic_mmhg=80, pulse_bpm=70) for k in range(6)]
    bad = [_one(Kind.HEALTH, "bp-1", at(9.0), None, systolic_mmhg=195, diastolic_mmhg=80,
                pulse_bpm=70)]
    found = _with(warm, bp + bad, hours=10.0)
    assert found == [(9.083, "vitals", "alarm")]


def test_fork_is_exact(warm: HouseholdState) -> None:
    a, b = Engine(), Engine()
    a.adopt(warm)
    b.adopt(warm, "copy")
    st_a = a.export(BASE.household)
    st_b = b.export("copy")
    assert st_a.household == st_b.household and st_a.devices == st_b.devices
    now = datetime.fromtimestamp(at(1.0), UTC)
    assert [f.kind for f in a.evaluate(now)] == [f.kind for f in b.evaluate(now)]



def test_a_lost_into_bed_message_does_not_turn_the_night_into_an_alarm(
        warm: HouseholdState) -> None:
    """The bed sensor's "into bed" at 22:30 is lost (one message in ten is, in the target
    condition): the night that follows begins at an hour when this person is usually in bed,
    so it is judged as rest, not as a silence of someone up and about."""
    h = home(days=HISTORY_DAYS + 2, plan=lambda d: plan(min(d, HISTORY_DAYS)))
    bedtime = at(BED[HISTORY_DAYS])
    rs = [r for r in h.readings() if r.time.timestamp() >= FORK
          and not (r.kind == Kind.PRESENCE and r.value == 1.0
                   and abs(r.time.timestamp() - bedtime) < 1.0)]
    assert len(rs) < len([r for r in h.readings() if r.time.timestamp() >= FORK])
    e = Engine()
    e.adopt(warm)
    found = drive(e, rs, FORK, FORK + 34 * 3600.0)
    assert [f for f in found if f[2] != "caution"] == []


def test_a_person_who_goes_out_every_weekday_is_overdue_after_hours_not_a_day(
        warm: HouseholdState) -> None:
    """With an errand of 1.5 h every weekday morning on record, not being back by 16:00 (6 h,
    the floor) is an alarm; with outings every third day it is the broad 16 h (below)."""
    def day(d: int) -> Day:
        if d < HISTORY_DAYS:
            return Day(wake=WAKE[d], bed=BED[d], outing=(10.0, 11.5))
        return Day(outing=(10.0, 30.0))

    h = home(plan=day, stop_at=at(10.01), days=HISTORY_DAYS + 2)
    e = Engine()
    e.add_household(h.household, h.timezone)
    found = drive(e, h.readings(), h.midnight(0), at(24.0), tick=300.0)
    # danger at twice the alarm (12 h), at 22:05, before the person's usual night
    assert [f for f in found if f[0] > 0] == [(14.083, "overdue_return", "caution"),
                                              (16.083, "overdue_return", "alarm"),
                                              (22.083, "overdue_return", "danger")]


def test_not_up_long_after_the_usual_time_is_an_alarm(warm: HouseholdState) -> None:
    """The person stops at 03:00, in bed: the missed waking time raises the alarm by the
    latest recent waking time (07:54) + 1.25 h at the latest."""
    found = scenario(warm, home(stop_at=at(3.0)), hours=14.0)
    alarms = [f for f in found if f[2] in ("alarm", "danger")]
    assert alarms and alarms[0][1] == "inactivity" and alarms[0][0] <= 7.9 + 1.25 + 0.1


def test_a_burst_of_spurious_motion_does_not_end_the_night_of_a_person_not_up(
        warm: HouseholdState) -> None:
    """As above, in a home where the PIRs trip about once an hour with nobody in (set here,
    as learned from its outings); by 06:30 the score has grown large (set too: in a home
    with few sensors, at the person's slow night rate, it does). Three triggers in 12
    minutes confirm someone is there, but they neither outweigh the silence nor are they
    rare for noise at that rate: the waking rule keeps the night's deadline (taken as the
    end of the night, they moved it to the next day, leaving the person to the slower
    score). A fourth within the 20 minutes, which noise makes about once in 300 of its
    triggers, does end it; so does the fridge door, a reliable sign. In a home whose bed
    sensor never showed anyone resting (or that has none), motion is all that can show
    the person getting up, so the three do end the night there."""
    h = home(stop_at=at(3.0))
    burst = [Reading(h.household, dev, Kind.MOTION,
                     datetime.fromtimestamp(at(hour), UTC), None, 1.0, {"motion": True})
             for dev, hour in (("pir-living", 6.5), ("pir-bedroom", 6.55),
                               ("pir-living", 6.65), ("pir-bedroom", 6.7))]
    e = Engine()
    e.adopt(warm)
    rs = [r for r in h.readings() if r.time.timestamp() >= FORK]
    drive(e, [r for r in rs if r.time.timestamp() < at(6.0)], FORK, at(6.0))
    i = e.index(h.household)
    assert i is not None
    due = float(e.hh.a["wk_due"][i])
    assert at(7.9) <= due + REL_BASE <= at(7.9 + 1.25 + 0.05)
    e.hh.a["in_S"][i] = 30.0
    e.hh.a["rh_zn"][i], e.hh.a["rh_ze"][i] = 30.0, 30.0
    e.observe(burst[:3])
    assert e.hh.a["sg_confirmed"][i] == burst[2].time.timestamp()  # confirmed ...
    assert float(e.hh.a["in_S"][i]) > 0.0
    assert float(e.hh.a["wk_due"][i]) == due  # ... yet the night goes on for the waking rule
    e.observe(burst[3:])
    assert math.isnan(e.hh.a["wk_due"][i])  # a silence from 06:42 is the score's business
    e.hh.a["wk_due"][i] = due
    e.observe([Reading(h.household, "contact-fridge", Kind.CONTACT,
                       datetime.fromtimestamp(at(6.8), UTC), None, 1.0, {"open": True})])
    assert math.isnan(e.hh.a["wk_due"][i])
    e.hh.a["wk_due"][i] = due
    e.hh.a["in_S"][i] = 30.0
    e.hh.a["rh_re"][i] = 0.0
    later = [replace(r, time=r.time + timedelta(hours=1)) for r in burst[:3]]
    e.observe(later)
    assert float(e.hh.a["in_S"][i]) > 0.0 and math.isnan(e.hh.a["wk_due"][i])


def test_a_worker_who_does_not_come_home_is_overdue_in_the_evening(
        warm: HouseholdState) -> None:
    """Leaves at 06:30 on weekdays and is back between 17:15 and 18:00; on the Wednesday
    they collapse at work. The usual return time makes it an alarm in the evening (the
    length alone, with no learned levels for 06:30 departures, waited 16 h: 22:30)."""
    back = (17.25, 17.5, 17.75, 18.0, 17.5, 17.25, 18.0, 17.75, 17.5)

    def day(d: int) -> Day:
        if d % 7 in (5, 6):  # the weekend at home
            return Day(wake=WAKE[d], bed=BED[d])
        return Day(wake=5.6, bed=22.0, outing=(6.5, back[d] if d < HISTORY_DAYS else 40.0))

    h = home(plan=day, stop_at=at(6.6), days=HISTORY_DAYS + 2)
    e = Engine()
    e.add_household(h.household, h.timezone)
    rs = h.readings()
    drive(e, [r for r in rs if r.time.timestamp() < FORK], h.midnight(0), FORK, tick=600.0)
    out = []
    for k in range(1, 24 * 12 + 1):
        t = FORK + 300.0 * k
        e.observe([r for r in rs if t - 300.0 <= r.time.timestamp() < t])
        out += [((t - FORK) / 3600.0, f) for f in e.evaluate(datetime.fromtimestamp(t, UTC))]
    alarms = [(hour, f) for hour, f in out if f.severity.label != "caution"]
    assert alarms and alarms[0][1].kind == "overdue_return"
    assert 19.0 <= alarms[0][0] <= 20.0
    assert "usually back by 17:" in alarms[0][1].explanation.en
