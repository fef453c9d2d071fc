"""Signs of life: which readings count, power steps, repeats of one sensor."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from anbu.domain import Kind, Reading
from detectors import signs
from detectors.settings import DetectorSettings
from detectors.signs import Sign
from detectors.state import Table

S = DetectorSettings()
T = datetime(2026, 6, 1, 3, tzinfo=UTC)


def _r(kind: Kind, value: float | None, **data: object) -> Reading:
    return Reading("hh", "dev", kind, T, 1, value, data)


def test_classify() -> None:
    assert signs.classify(_r(Kind.MOTION, 1.0, motion=True)) == Sign.NOISY
    assert signs.classify(_r(Kind.MOTION, 0.0, motion=False)) == Sign.NONE
    assert signs.classify(_r(Kind.DOOR, 1.0, open=True)) == Sign.RELIABLE
    assert signs.classify(_r(Kind.CONTACT, 0.0, open=False)) == Sign.RELIABLE
    assert signs.classify(_r(Kind.APPLIANCE, 1.0, on=True)) == Sign.RELIABLE
    assert signs.classify(_r(Kind.APPLIANCE, 0.0, on=False)) == Sign.NOISY  # kettles auto-off
    for kind in (Kind.PRESENCE, Kind.WATER, Kind.HEALTH, Kind.BUTTON):
        assert signs.classify(_r(kind, 1.0)) == Sign.RELIABLE
    for kind in (Kind.POWER, Kind.ENV, Kind.STATUS):
        assert signs.classify(_r(kind, 50.0)) == Sign.NONE


def test_power_steps_are_appliances_switched_on_between_consecutive_readings() -> None:
    assert signs.is_power_step(60.0, 0.0, 1860.0, 60.0, S)  # a kettle
    assert not signs.is_power_step(60.0, 0.0, 170.0, 60.0, S)  # the fridge compressor
    assert not signs.is_power_step(1860.0, 0.0, 60.0, 60.0, S)  # switching off
    assert not signs.is_power_step(60.0, 0.0, 1860.0, 120.0, S)  # a reading was lost
    assert not signs.is_power_step(math.nan, math.nan, 1860.0, 60.0, S)


def _tables() -> tuple[Table, Table]:
    hh, dv = Table(signs.HH_FIELDS), Table(signs.DEV_FIELDS)
    hh.add()
    dv.add(3)
    return hh, dv


def test_repeats_of_one_sensor_count_once_per_refractory_time() -> None:
    hh, dv = _tables()
    t0 = 1_780_000_000.0
    got = [signs.count(hh, dv, 0, 0, t0 + dt, Sign.NOISY, S)[0]
           for dt in (0.0, 30.0, 60.0, 179.0, 181.0, 400.0)]
    assert got == [True, False, False, False, True, True]


def test_corroboration_and_confirmation() -> None:
    hh, dv = _tables()
    t0 = 1_780_000_000.0
    assert signs.count(hh, dv, 0, 0, t0, Sign.NOISY, S) == (True, False)
    assert math.isnan(hh.a["sg_confirmed"][0])  # one motion trigger proves little
    # another sensor within ten minutes corroborates, but two noisy signs do not confirm
    assert signs.count(hh, dv, 0, 1, t0 + 300.0, Sign.NOISY, S) == (True, True)
    assert math.isnan(hh.a["sg_confirmed"][0])
    # a third noisy sign within 20 minutes does
    assert signs.count(hh, dv, 0, 0, t0 + 600.0, Sign.NOISY, S) == (True, True)
    assert hh.a["sg_confirmed"][0] == t0 + 600.0
    # a reliable sign confirms by itself
    assert signs.count(hh, dv, 0, 2, t0 + 5000.0, Sign.RELIABLE, S) == (True, True)
    assert hh.a["sg_confirmed"][0] == t0 + 5000.0
    assert hh.a["sg_last_dev"][0] == 2


def test_a_strong_burst_is_one_noise_would_hardly_make() -> None:
    # the home's own noise rate sets how many triggers within 20 minutes are strong
    assert signs.burst_needed(0.0) == signs.BURST_N == 3
    assert signs.burst_needed(0.25) == 3
    assert signs.burst_needed(1.0) == 4
    assert signs.burst_needed(3.0) == 6
    # noise at one an hour follows a trigger with 3 more in 20 minutes less than 1 % of times
    mu = 1.0 * signs.BURST_S / 3600.0
    p3 = 1.0 - math.exp(-mu) * (1.0 + mu + mu * mu / 2.0)
    assert p3 < signs.STRONG_P < 1.0 - math.exp(-mu) * (1.0 + mu)
