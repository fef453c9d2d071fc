"""Device problems: a silent gateway, devices that stop reporting, flat batteries, stuck or
silent sensors. A dead gateway must never look like a dead person: while a home's gateway is
offline (its last will arrived, or nothing at all was heard for `gateway_timeout_s` while
heartbeats come every 10 minutes) the home is in the *unknown* state — the inactivity score
neither grows nor learns — and a `device.gateway_offline` finding is raised instead.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from anbu.domain import Kind, Reading
from detectors.settings import DetectorSettings
from detectors.state import Field, Table, rel

NAN = math.nan
KINDS = list(Kind)
KIND_CODE = {k: i for i, k in enumerate(KINDS)}
MOTION = KIND_CODE[Kind.MOTION]
#: device levels: which findings a device has open
OFFLINE, BATTERY, STUCK, SILENT = 0, 1, 2, 3
_PERSON_CODES = np.array([KIND_CODE[k] for k in (Kind.MOTION, Kind.DOOR, Kind.CONTACT,
                                                 Kind.PRESENCE, Kind.WATER)])
#: a stuck PIR repeats every blind period; a person keeps a PIR busy far less steadily
STUCK_MIN_PER_H = 12.0
#: a pause this long between motion reports ends a run of motion
PAUSE_S = 600.0

HH_FIELDS = (
    Field("dh_zone", "int16"),
    Field("dh_active", "bool"),
    #: first seen (relative seconds, see state.rel)
    Field("dh_created", "float32", fill=NAN),
    #: latest reading time of any kind from the home (its gateway is alive)
    Field("dh_heard", "float64", fill=NAN),
    #: offline since (a last will, or the last reading before a timeout); NaN when online
    Field("dh_offline", "float64", fill=NAN),
    Field("dh_glevel", "int8"),
)
DEV_FIELDS = (
    Field("dv_hh", "int32"),
    Field("dv_kind", "int8"),
    Field("dv_seen", "float32", fill=NAN),
    #: the device sends status reports (so its silence means something)
    Field("dv_status", "bool"),
    #: a PIR: first motion report since it last cleared (or since a pause of 10 minutes, for
    #: PIRs that never report clearing), the reports since, and the last one
    Field("dv_msince", "float32", fill=NAN),
    Field("dv_mcount", "uint16"),
    Field("dv_mlast", "float32", fill=NAN),
    Field("dv_batt", "float16", fill=NAN),
    #: share of recent days on which the device gave a sign (EWMA), and today's flag
    Field("dv_fired", "float16"),
    Field("dv_today", "bool"),
    Field("dv_lvl", "int8", (4,)),
)


def is_will(r: Reading) -> bool:
    return r.kind == Kind.STATUS and r.data.get("online") is False


def on_reading(dv: Table, j: int, t: float) -> None:
    rt = rel(t)
    seen = float(dv.a["dv_seen"][j])
    if math.isnan(seen) or rt > seen:
        dv.a["dv_seen"][j] = rt
    if dv.a["dv_lvl"][j, OFFLINE]:
        dv.a["dv_lvl"][j, OFFLINE] = 0


def on_status(dv: Table, j: int, r: Reading, s: DetectorSettings) -> None:
    dv.a["dv_status"][j] = r.data.get("role") != "gateway"
    b = r.data.get("battery_pct")
    if isinstance(b, int | float):
        dv.a["dv_batt"][j] = float(b)
        if b > s.battery_low_pct + 10.0:
            dv.a["dv_lvl"][j, BATTERY] = 0


def on_motion(dv: Table, j: int, t: float, moving: bool, s: DetectorSettings) -> bool:
    """Track a PIR's reports; returns True when the PIR is stuck (ignore it as a sign): it
    has reported motion without clearing, or without a 10-minute pause, for `stuck_s`, at
    least STUCK_MIN_PER_H times an hour (a stuck PIR repeats every blind period)."""
    a = dv.a
    if not moving:
        a["dv_msince"][j] = NAN
        a["dv_mcount"][j] = 0
        a["dv_lvl"][j, STUCK] = 0
        return False
    since, last = float(a["dv_msince"][j]), float(a["dv_mlast"][j])
    rt = rel(t)
    if not math.isnan(last) and rt >= last or math.isnan(last):
        a["dv_mlast"][j] = rt
    if math.isnan(since) or rt - last > PAUSE_S:
        a["dv_msince"][j] = rt
        a["dv_mcount"][j] = 1
        a["dv_lvl"][j, STUCK] = 0
        return False
    a["dv_mcount"][j] = min(int(a["dv_mcount"][j]) + 1, 65000)
    return _stuck(rt - since, int(a["dv_mcount"][j]), s)


def _stuck(span: float, count: int, s: DetectorSettings) -> bool:
    return span >= s.stuck_s and count >= STUCK_MIN_PER_H * span / 3600.0


def on_sign(dv: Table, j: int) -> None:
    dv.a["dv_today"][j] = True


def gateway(hh: Table, now: float, resumed: float, s: DetectorSettings) -> NDArray[np.bool_]:
    """Mark homes silent for too long as offline (from their last reading); returns the
    offline mask. Silence that overlaps the engine's own downtime does not count."""
    a = hh.a
    n = hh.n
    heard = a["dh_heard"][:n]
    quiet = (np.isnan(a["dh_offline"][:n]) & ~np.isnan(heard)
             & (now - np.maximum(heard, resumed) > s.gateway_timeout_s))
    if quiet.any():
        a["dh_offline"][:n][quiet] = heard[quiet]
    offline: NDArray[np.bool_] = ~np.isnan(a["dh_offline"][:n])
    return offline


def gateway_levels(hh: Table, now: float, offline: NDArray[np.bool_]) -> NDArray[np.int8]:
    """caution once offline for 10 min, alarm after 12 h (the home is not watched at all)."""
    span = np.where(offline, now - hh.a["dh_offline"][: hh.n], 0.0)
    return ((span >= 600.0).astype(np.int8) + (span >= 12 * 3600.0)).astype(np.int8)


def device_levels(dv: Table, rows: slice, now: float, hh_offline: NDArray[np.bool_],
                  hh_live: NDArray[np.bool_], s: DetectorSettings) -> NDArray[np.int8]:
    """(m, 4) wanted levels for the m devices of `rows` (a range of rows: the columns are
    read as views): offline, battery, stuck, silent."""
    a = dv.a
    m = len(range(*rows.indices(dv.n)))
    out = np.zeros((m, 4), dtype=np.int8)
    if m == 0:
        return out
    rnow = rel(now)
    owner = a["dv_hh"][rows]
    gw_ok = ~hh_offline[owner]
    seen = a["dv_seen"][rows].astype(np.float64)
    out[:, OFFLINE] = a["dv_status"][rows] & gw_ok & (rnow - seen >= s.device_timeout_s)
    batt = a["dv_batt"][rows].astype(np.float64)
    out[:, BATTERY] = ~np.isnan(batt) & (batt <= s.battery_low_pct)
    since = a["dv_msince"][rows].astype(np.float64)
    paused = rnow - a["dv_mlast"][rows].astype(np.float64) > PAUSE_S
    span = np.where(np.isnan(since) | paused, 0.0, rnow - since)
    out[:, STUCK] = (span >= s.stuck_s) & (
        a["dv_mcount"][rows] >= STUCK_MIN_PER_H * span / 3600.0)
    quiet = rnow - a["dv_sign"][rows].astype(np.float64)
    daily = (a["dv_fired"][rows].astype(np.float64) >= 0.8) & np.isin(a["dv_kind"][rows],
                                                                      _PERSON_CODES)
    out[:, SILENT] = daily & gw_ok & hh_live[owner] & (quiet >= s.silent_s)
    return out


def new_day(dv: Table, hh_idx: NDArray[np.int64]) -> None:
    """Fold today's flag into the devices' daily-use share, for households `hh_idx`."""
    a = dv.a
    m = dv.n
    if m == 0 or hh_idx.shape[0] == 0:
        return
    sel = np.flatnonzero(np.isin(a["dv_hh"][:m], hh_idx))
    fired = a["dv_fired"][sel].astype(np.float32)
    a["dv_fired"][sel] = 0.9 * fired + 0.1 * a["dv_today"][sel]
    a["dv_today"][sel] = False
