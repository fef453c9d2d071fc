"""The evaluation harness: incident moments, faults, forks, scores, baselines."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import orjson
import pytest

from anbu.contract import topic_for
from anbu.domain import Kind, Reading
from detectors import perturb
from detectors.baselines import FixedTimer, SmartPlug
from detectors.evaluate import (
    Alert,
    Incident,
    Outcome,
    evaluate,
    incident_line,
    make_detector,
    plan_incidents,
    return_reference,
)
from detectors.report import _q, false_alarms, incident_scores, summarize, wake_reference
from detectors.settings import DetectorSettings
from detectors.state import Field, Table
from detectors.synth import Day, Home
from simulators.core import Cause, Label, Message
from simulators.incidents import is_person

SEOUL = ZoneInfo("Asia/Seoul")


def _messages(rs: list[Reading]) -> list[Message]:
    """Readings as the MQTT messages a device would send (person/background marked)."""
    out = []
    for r in rs:
        doc = {"ts": round(r.time.timestamp(), 3), "seq": r.seq, **r.data}
        person = r.kind not in (Kind.POWER, Kind.ENV, Kind.STATUS)
        cause = Cause.PERSON if person else Cause.BACKGROUND
        if r.kind == Kind.STATUS and "ts" in doc and r.data.get("online") is False:
            doc = dict(r.data)  # a last will has no ts/seq
        out.append(Message(round(r.time.timestamp(), 3), topic_for(r.household_id, r.device_id,
                                                                   r.kind.value),
                           orjson.dumps(doc), int(cause)))
    return out


def _home(days: int = 11) -> Home:
    return Home(days=days, seed=5, plan=lambda d: Day(wake=7.0 + 0.3 * (d % 3),
                                                      nap=(13.5, 14.2) if d % 2 else None))


def test_incident_moments_are_stratified_and_seeded() -> None:
    start = datetime(2026, 6, 1, tzinfo=SEOUL).timestamp()
    homes = [("a", "Asia/Seoul"), ("b", "Europe/Madrid")]
    incs = plan_incidents(homes, start, start + 20 * 86400.0, 7 * 86400.0, 9, seed=3)
    assert incs == plan_incidents(homes, start, start + 20 * 86400.0, 7 * 86400.0, 9, seed=3)
    assert sorted(i.bucket for i in incs) == ["day"] * 3 + ["evening"] * 3 + ["night"] * 3
    for inc in incs:
        assert start + 7 * 86400.0 <= inc.t0 <= start + 19 * 86400.0
        hour = datetime.fromtimestamp(inc.t0, ZoneInfo(dict(homes)[inc.household])).hour
        assert {"day": 8 <= hour < 20, "evening": hour >= 20, "night": hour < 8}[inc.bucket]
    assert [i.t0 for i in incs] == sorted(i.t0 for i in incs)


def test_faults_are_seeded_and_as_asked() -> None:
    msgs = _messages(_home(3).readings())
    kept = list(perturb.drop(iter(msgs), 0.1, seed=1))
    assert kept == list(perturb.drop(iter(msgs), 0.1, seed=1))
    assert 0.085 < 1 - len(kept) / len(msgs) < 0.115
    start, end = msgs[0].t, msgs[0].t + 3 * 86400.0
    both = list(perturb.spurious_pir(iter(msgs), {"hh-t": ["pir-living", "pir-bath"]},
                                     start, end, 1.0, seed=2))
    extra = [m for m in both if m.cause == Cause.FAULT]
    assert 2 * 50 <= len(extra) <= 2 * 95  # ~72 blips, each a true and a false
    assert not any(is_person(m) for m in extra)
    assert [m.t for m in both] == sorted(m.t for m in both)


def test_harness_forks_injected_incidents_and_scores_them() -> None:
    h = _home(12)
    msgs = _messages(h.readings())
    header = {"households": [{"id": "hh-t", "timezone": "Asia/Seoul", "devices": []}]}
    start, end = h.midnight(0), h.midnight(12)
    out = evaluate(header, iter(msgs), ["anbu", "fixed:8h"], DetectorSettings(),
                   7 * 86400.0, start, end, inject=6, seed=1)
    assert len(out.incidents) == 6
    assert out.messages == len(msgs)
    # the person's next message on the unmodified stream is noted (after the moment)
    assert all(i.next_t is not None and i.t0 <= i.next_t <= i.t0 + 86400.0
               for i in out.incidents)
    for inc in out.incidents:
        assert inc.detected["anbu"] is not None
        assert inc.detected["anbu"] - inc.t0 <= 12 * 3600.0
        # no spurious motion here; the timer counts from the last motion, before the moment
        assert inc.detected["fixed:8h"] is not None
        assert 0.0 < inc.detected["fixed:8h"] - inc.t0 <= 8 * 3600.0 + 120.0
    res = summarize(out)
    anbu = res["detectors"]["anbu"]
    assert anbu["injected"]["incidents"] == 6 and anbu["injected"]["missed_24h"] == 0
    day = anbu["injected"]["day"]
    assert day["n"] == 2 and day["median_h"] is not None and day["median_h"] <= 3.0
    assert res["comparison"]["fixed"] == "fixed:8h"
    # the weekly trend of the unmodified stream: one whole week in 12 days, too few to judge
    trend = res["weekly_trend"]
    assert trend["weeks"] == 1 and trend["declining"] == []
    week = trend["households"]["hh-t"]["weeks"]
    assert len(week) == 1 and week[0]["days"] == 7 and week[0]["signs_per_day"] > 20
    assert trend["households"]["hh-t"]["signs_change"] is None
    # one line per incident (`anbu eval --incidents-out`): when, and which rule, found it
    line = incident_line(out.incidents[0], ["anbu", "fixed:8h"])
    inc = out.incidents[0]
    assert line["household"] == "hh-t" and line["bucket"] == inc.bucket
    assert datetime.fromisoformat(line["at"]).timestamp() == pytest.approx(inc.t0)
    found = line["detected"]["anbu"]
    assert found["delay_h"] == pytest.approx((inc.detected["anbu"] - inc.t0) / 3600, abs=1e-3)
    assert found["kind"] == "inactivity"
    assert line["detected"]["fixed:8h"]["kind"] is not None
    assert orjson.loads(orjson.dumps(line)) == line
    night = next(i for i in out.incidents if i.bucket == "night")
    ref = wake_reference(out, night)
    assert ref is not None and ref >= night.t0
    found = incident_line(night, ["anbu"], ref)["detected"]["anbu"]
    assert found["after_usual_wake_h"] == pytest.approx((night.detected["anbu"] - ref) / 3600,
                                                        abs=1e-3)
    assert incident_line(out.incidents[0], ["anbu"])["usual_wake_at"] is None


def test_an_incident_while_out_is_also_measured_from_the_return_that_did_not_happen() -> None:
    h = 3600.0
    out_gone = Incident(1, "a", 10 * h, "day", last_door=True, next_door=True, next_t=18 * h)
    out_gone.detected["anbu"] = 19.5 * h  # back by 18:00 as a rule: found 1.5 h after
    late = Incident(2, "a", 20 * h, "evening", last_door=True, next_door=True, next_t=19 * h)
    late.detected["anbu"] = 21 * h  # the moment is after the return: measured from it
    missed = Incident(3, "a", 9 * h, "day", last_door=True, next_door=True, next_t=12 * h)
    missed.detected["anbu"] = None
    home = Incident(4, "a", 9 * h, "day", last_door=False, next_door=False, next_t=9.5 * h)
    home.detected["anbu"] = 10 * h
    assert return_reference(out_gone) == 18 * h and return_reference(late) == 20 * h
    assert return_reference(home) is None
    line = incident_line(out_gone, ["anbu"])
    assert line["detected"]["anbu"]["after_return_h"] == pytest.approx(1.5)
    assert datetime.fromisoformat(line["return_at"]).timestamp() == 18 * h
    outcome = Outcome(["anbu"], ["a"], 0.0, 30 * h, 0.0, [], [], [], {}, {"a": "UTC"})
    got = incident_scores(outcome, [out_gone, late, missed, home], "anbu")
    assert got["while_out_after_return"]["n"] == 3
    assert got["while_out_after_return"]["median_h"] == pytest.approx(1.5)
    assert got["while_out_after_return"]["p90_h"] is None  # one in three never found


def test_quantiles_count_missed_incidents_as_infinitely_late() -> None:
    assert _q([1.0, 2.0, 3.0], 0.5) == 2.0
    assert _q([1.0, math.inf, math.inf], 0.5) is None
    assert _q([1.0] * 19 + [math.inf], 0.9) == 1.0
    assert _q([1.0] * 9 + [math.inf], 0.9) is None  # 10 % missed: the p90 is not known
    assert _q([], 0.5) is None


def test_false_alarms_count_episodes_after_warm_up_outside_incidents() -> None:
    d = 86400.0
    alerts = [
        Alert("anbu", "a", "inactivity", "alarm", 2 * d),  # warm-up: not counted
        Alert("anbu", "a", "inactivity", "caution", 8 * d),
        Alert("anbu", "a", "inactivity", "alarm", 8 * d + 600),
        Alert("anbu", "a", "inactivity", "danger", 8 * d + 1200),  # same episode
        Alert("anbu", "a", "overdue_return", "alarm", 9 * d),
        Alert("anbu", "b", "device.offline", "caution", 9 * d),  # a device, not a person
        Alert("anbu", "b", "inactivity", "alarm", 12 * d),  # after b's incident
    ]
    out = Outcome(["anbu"], ["a", "b"], 0.0, 37 * d, 7 * d, alerts, [],
                  [Label("b", "collapse", 11 * d)], {}, {})
    fa = false_alarms(out, "anbu")
    assert fa["escalated"] == 2
    assert fa["escalated_by_kind"] == {"inactivity": 1, "overdue_return": 1}
    assert fa["household_months"] == 2.0
    assert fa["per_household_month"] == 1.0 and fa["worst_household_per_month"] == 2.0
    assert fa["device_findings_per_household_month"] == {"device.offline": 0.5}


def test_scores_are_split_by_persona_and_sensor_kit() -> None:
    d = 86400.0
    alerts = [Alert("anbu", "a", "inactivity", "alarm", 8 * d),
              Alert("anbu", "a", "inactivity", "alarm", 9 * d),
              Alert("anbu", "c", "wandering", "alarm", 10 * d)]
    incs = []
    for k, (hid, delay_h) in enumerate((("a", 1.0), ("a", 3.0), ("b", 2.0), ("c", None))):
        inc = Incident(k, hid, 10 * d + k * 3600.0, "day")
        inc.detected["anbu"] = None if delay_h is None else inc.t0 + delay_h * 3600.0
        incs.append(inc)
    groups = {"a": {"persona": "older_regular", "sensors": "standard"},
              "b": {"persona": "older_regular", "sensors": "minimal"},
              "c": {"persona": "middle_aged_man", "sensors": "minimal"}}
    out = Outcome(["anbu"], ["a", "b", "c"], 0.0, 37 * d, 7 * d, alerts, incs, [], {},
                  dict.fromkeys("abc", "UTC"), groups=groups)
    got = summarize(out)["detectors"]["anbu"]["by_group"]
    assert sorted(got) == ["persona:middle_aged_man", "persona:older_regular",
                           "sensors:minimal", "sensors:standard"]
    older = got["persona:older_regular"]
    assert older["households"] == 2 and older["incidents"] == 3 and older["missed_24h"] == 0
    assert older["false_alarms_per_household_month"] == 1.0  # 2 in 2 homes x 30 days
    assert older["day"]["median_h"] == pytest.approx(2.0)
    man = got["persona:middle_aged_man"]
    assert man["missed_24h"] == 1 and man["day"]["median_h"] is None  # > 24 h
    assert man["false_alarms_per_household_month"] == 1.0
    assert got["sensors:minimal"]["incidents"] == 2
    # a recording that names no persona or kit (an imported home) gets no split
    plain = replace(out, groups={})
    assert "by_group" not in summarize(plain)["detectors"]["anbu"]


def _motion(t: float) -> Reading:
    return Reading("h", "pir", Kind.MOTION, datetime.fromtimestamp(t, UTC), 1, 1.0,
                   {"motion": True})


def test_fixed_timer_raises_once_per_silence() -> None:
    ft = FixedTimer(8.0)
    ft.observe([_motion(0.0)])
    assert ft.evaluate(datetime.fromtimestamp(7.9 * 3600, UTC)) == []
    first = ft.evaluate(datetime.fromtimestamp(8 * 3600, UTC))
    assert [(f.kind, f.severity.label) for f in first] == [("inactivity", "alarm")]
    assert ft.evaluate(datetime.fromtimestamp(9 * 3600, UTC)) == []
    ft.observe([_motion(10 * 3600.0)])
    assert len(ft.evaluate(datetime.fromtimestamp(18 * 3600, UTC))) == 1
    assert make_detector("fixed-any:12h", DetectorSettings()).name == "fixed-any:12h"  # type: ignore[attr-defined]
    with pytest.raises(ValueError):
        make_detector("fixed:soon", DetectorSettings())


def test_smart_plug_flat_power() -> None:
    sp = SmartPlug()
    rs = [Reading("h", "plug", Kind.POWER, datetime.fromtimestamp(60.0 * k, UTC), k,
                  50.0, {"w": 1850.0 if k == 30 else 50.0}) for k in range(60 * 30)]
    sp.observe(rs)
    assert sp.evaluate(datetime.fromtimestamp(24 * 3600.0, UTC)) == []
    found = sp.evaluate(datetime.fromtimestamp(1800.0 + 24 * 3600.0, UTC))
    assert [f.severity.label for f in found] == ["alarm"]


def test_state_rows_pack_and_grow() -> None:
    t = Table([Field("x", "float64", fill=math.nan), Field("v", "float16", (3,))], capacity=1)
    a = t.add()
    t.a["x"][a] = 1.5
    t.a["v"][a] = [1, 2, 3]
    b = t.add(5)
    assert t.cap >= 6 and t.a["x"][a] == 1.5 and math.isnan(t.a["x"][b])
    blob = t.pack([a])
    assert len(blob) == t.row_bytes == 8 + 6
    t.unpack([b + 4], blob)
    assert t.a["v"][b + 4].tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError):
        Table([Field("x", "int8"), Field("x", "int8")])
    assert np.isnan(t.a["x"][b + 1])
