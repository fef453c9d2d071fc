"""Every packed state layout anbu has stored, so that an upgrade keeps what was learned.

A stored state row carries only a format number (`Engine.state_format`, a CRC of the
layout). When the layout changes, rows saved by the previous version must still load: weeks of
learned rhythm and thresholds cannot be thrown away on an upgrade (the homes would fall back
to the fixed warm-up tiers for days). So each layout that was ever released is recorded here,
by its format number, as a compact spec ("name:dtype[:shape]" per field, in order), and
`state.Table.unpack_from` adopts an older row *field by field*: a field with the same name and
shape is copied (cast to the new dtype), a new or reshaped field keeps its default, a field
that no longer exists is dropped.

Rule for whoever changes a field: add the new layout below (`spec(Engine().hh.record)`; the
test `test_det_layouts` fails until it is there), and if a field keeps its name but changes
its *meaning* or units, rename it (an old value under a new meaning would be adopted silently).
"""

from __future__ import annotations

import zlib

import numpy as np

#: format -> (household row spec, device row spec)
KNOWN: dict[int, tuple[str, str]] = {}

_DEV_1 = ("dv_hh:<i4 dv_kind:|i1 dv_seen:<f4 dv_status:|b1 dv_msince:<f4 dv_mcount:<u2 "
          "dv_mlast:<f4 dv_batt:<f2 dv_fired:<f2 dv_today:|b1 dv_lvl:|i1:4 dv_sign:<f4")

_COMMON_HEAD = (
    "dh_zone:<i2 dh_active:|b1 dh_created:<f4 dh_heard:<f8 dh_offline:<f8 dh_glevel:|i1 "
    "sg_last:<f8 sg_last_dev:<i4 sg_confirmed:<f8 sg_burst_t:<f8 sg_burst_n:|i1 rh_n:<f2:48 "
    "rh_e:<f4:48 rh_cum:<f4:2x25 rh_noisy:<f4 rh_units:<f4 rh_rest:<u4:2 rh_rn:<f2:24 "
    "rh_re:<f4:24 rh_rcum:<f4:1x25 rh_zn:<f4 rh_ze:<f4 in_S:<f8 in_tref:<f8 in_peak:<f4 "
    "in_exc_start:<f8 in_exc_pose:|i1 in_alerted:|b1 in_level:|i1 in_day:<i4 "
    "in_bmax:<f2:8x2 in_m:<f4:8x2x4 in_h:<f2:8x2x3 in_days:<i2 in_mult:<f2:8x2x2 "
    "pr_posture:|u1 ")
_COMMON_TAIL = (
    "vt_mean:<f2:7 vt_var:<f2:7 vt_n:<f2:7 vt_sev:|i1 vt_metric:|i1 vt_value:<f4 vt_t:<f8 "
    "vt_level:|i1 so_t:<f8 so_done:<f8 cl_temp:<f4 cl_since:<f4:4 cl_level:|i1:2 pw_w:<f4 "
    "pw_t:<f8 pw_first:<f4 pw_step:<f4 pw_bins:<f4:12 pw_bin:<i4 pw_usual:<f4 "
    "pw_level:|i1:2")
_PRESENCE_1 = (
    "pr_door:<f8 pr_pending:|b1 pr_units:<f4 pr_away:<f8 pr_ret_units:<f4 pr_ret_t:<f8 "
    "pr_hist:<f2:16 pr_h:<f4:3 pr_last_exit:<f4 pr_exits:<f2:24 pr_night:|b1 pr_alerted:|b1 "
    "pr_level:|i1 pr_wlevel:|i1 pr_ilevel:|i1 ")

#: the first stored layout (commits 56df2de .. d47cc06)
KNOWN[3560029639] = (_COMMON_HEAD + _PRESENCE_1 + _COMMON_TAIL, _DEV_1)
#: + the resting-since time and the longest rests (4f1f0c2 .. c645da8)
KNOWN[1459511579] = (_COMMON_HEAD + "pr_psince:<f4 pr_rmax:<f2:2 " + _PRESENCE_1
                     + _COMMON_TAIL, _DEV_1)
#: outings per class of the day (pr_out) instead of one histogram and stored thresholds,
#: exits per hour in sixteenths (pr_exits16), the waking time (wk_*)
KNOWN[3584189433] = (
    _COMMON_HEAD +
    "pr_psince:<f4 pr_rmax:<f2:2 pr_door:<f8 pr_pending:|b1 pr_units:<f4 pr_away:<f8 "
    "pr_ret_units:<f4 pr_ret_t:<f8 pr_out:<f2:6x4 pr_last_exit:<f4 pr_exits16:|u1:24 "
    "pr_night:|b1 pr_alerted:|b1 pr_level:|i1 pr_wlevel:|i1 pr_ilevel:|i1 wk_m:<f2:4 "
    "wk_today:<f2 wk_alarm:<f2 wk_lead:<f2 wk_due:<f4 "
    + _COMMON_TAIL, _DEV_1)

#: the start of an outing as a flag (`pr_is_away`; the door time is its start), the return's
#: first sign in relative float32 seconds (`pr_ret_at`), the return evidence in float16, and
#: the usual return time per class (`pr_back`)
KNOWN[2287221486] = (
    _COMMON_HEAD +
    "pr_psince:<f4 pr_rmax:<f2:2 pr_door:<f8 pr_pending:|b1 pr_units:<f2 pr_is_away:|b1 "
    "pr_ret_units:<f2 pr_ret_at:<f4 pr_out:<f2:6x4 pr_back:<f2:4x3 pr_last_exit:<f4 "
    "pr_exits16:|u1:24 pr_night:|b1 pr_alerted:|b1 pr_level:|i1 pr_wlevel:|i1 pr_ilevel:|i1 "
    "wk_m:<f2:4 wk_today:<f2 wk_alarm:<f2 wk_lead:<f2 wk_due:<f4 "
    + _COMMON_TAIL, _DEV_1)


def spec(record: np.dtype) -> str:
    """The compact spec of a record dtype (what `KNOWN` holds)."""
    out = []
    assert record.fields is not None
    for name, field in record.fields.items():
        dt = field[0]
        base, shape = dt.subdtype if dt.subdtype else (dt, ())
        out.append(f"{name}:{base.str}" + (":" + "x".join(map(str, shape)) if shape else ""))
    return " ".join(out)


def record_of(text: str) -> np.dtype:
    """The record dtype of a compact spec."""
    fields: list[tuple[str, str, tuple[int, ...]]] = []
    for item in text.split():
        name, dt, *shape = item.split(":")
        fields.append((name, dt, tuple(int(x) for x in shape[0].split("x")) if shape else ()))
    return np.dtype(fields)


def format_of(hh: np.dtype, dv: np.dtype) -> int:
    """The format number of a pair of layouts (as `Engine.state_format` computes it)."""
    return zlib.crc32(repr((hh.descr, dv.descr)).encode())


def records(fmt: int) -> tuple[np.dtype, np.dtype] | None:
    """The (household, device) record dtypes of a known format, or None."""
    pair = KNOWN.get(fmt)
    return None if pair is None else (record_of(pair[0]), record_of(pair[1]))
