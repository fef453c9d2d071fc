"""Real sensor logs -> recordings: an event CSV plus a TOML map (docs/recording.md).

CSV: a header row with `time,sensor,value` and optionally `end`. `time`/`end` are ISO 8601,
with an offset or in the map's time zone; `value` is a number or ON/OFF/OPEN/CLOSED (empty: ON).
A row with `end` is an activation interval: active at `time`, inactive at `end` (overlapping
intervals of one sensor merge). The map names each sensor's contract kind, room and details:

    timezone = "Europe/Madrid"
    [sensors."Front door"]
    kind = "door"        # a contract kind
    room = "hall"
    exterior = true      # door: to the outside
    device = "door-front"  # optional device id (default: the sensor name, slugged)

Other keys: `target` (contact), `place` (presence), `appliance` (appliance, power), `event`
(water: flush | tap | shower, default flush), `field` (health metric; env: temp_c by default),
`action` (button, default sos). Gateway heartbeats (`gw-1`, every `heartbeat` s, default 600)
cover the whole span of the log, as a real gateway would.
"""

from __future__ import annotations

import csv
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from anbu.contract import HEALTH_METRICS, ID_RE, topic_for
from anbu.domain import Kind
from simulators.core import Cause, Message

_BINARY = {"motion": "motion", "door": "open", "contact": "open", "appliance": "on",
           "presence": "occupied"}
_TRUE = {"ON", "OPEN", "TRUE", "1", ""}
_FALSE = {"OFF", "CLOSED", "CLOSE", "FALSE", "0"}


@dataclass(frozen=True, slots=True)
class SensorMap:
    name: str
    device: str
    kind: str
    room: str
    exterior: bool = False
    target: str | None = None
    place: str | None = None
    appliance: str | None = None
    event: str = "flush"
    field: str | None = None
    action: str = "sos"

    def header(self) -> dict[str, object]:
        out: dict[str, object] = {"id": self.device, "kind": self.kind, "room": self.room,
                                  "exterior": self.exterior}
        for k in ("target", "place", "appliance"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        return out


@dataclass(frozen=True, slots=True)
class Map:
    timezone: str
    sensors: dict[str, SensorMap]


def slug(name: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return s[:64] or "sensor"


def load_map(path: Path) -> Map:
    with path.open("rb") as f:
        doc = tomllib.load(f)
    tz = doc.get("timezone")
    if not isinstance(tz, str):
        raise ValueError(f"{path}: needs timezone = \"Area/City\"")
    ZoneInfo(tz)  # fail early on an unknown zone
    sensors: dict[str, SensorMap] = {}
    for name, spec in (doc.get("sensors") or {}).items():
        kind = spec.get("kind")
        if kind not in {k.value for k in Kind}:
            raise ValueError(f"{path}: sensor {name!r} has no valid contract kind: {kind!r}")
        device = spec.get("device") or slug(name)
        if not ID_RE.match(device):
            raise ValueError(f"{path}: device id {device!r} breaks the contract's id grammar")
        field = spec.get("field")
        if kind == "health" and field not in HEALTH_METRICS:
            raise ValueError(f"{path}: health sensor {name!r} needs field = one of "
                             f"{', '.join(HEALTH_METRICS)}")
        sensors[name] = SensorMap(
            name, device, kind, str(spec.get("room", "")), bool(spec.get("exterior", False)),
            spec.get("target"), spec.get("place"), spec.get("appliance"),
            str(spec.get("event", "flush")), field, str(spec.get("action", "sos")))
    devices = [s.device for s in sensors.values()]
    if len(set(devices)) != len(devices):
        raise ValueError(f"{path}: two sensors map to the same device id")
    return Map(tz, sensors)


def _time(text: str, tz: ZoneInfo) -> float:
    d = datetime.fromisoformat(text.strip())
    if d.tzinfo is None:
        d = d.replace(tzinfo=tz)
    return d.timestamp()


def _state(value: str) -> bool | float:
    v = value.strip().upper()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    try:
        return float(v)
    except ValueError:
        raise ValueError(f"value {value!r} is neither a number nor ON/OFF/OPEN/CLOSED") from None


@dataclass(frozen=True, slots=True)
class Row:
    time: float
    sensor: str
    value: bool | float
    end: float | None


def read_events(path: Path, tz: str) -> list[Row]:
    zone = ZoneInfo(tz)
    rows = []
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or not {"time", "sensor"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: the header row needs time,sensor[,value][,end]")
        for n, r in enumerate(reader, start=2):
            try:
                end = (r.get("end") or "").strip()
                rows.append(Row(_time(r["time"], zone), r["sensor"].strip(),
                                _state(r.get("value") or ""), _time(end, zone) if end else None))
            except ValueError as e:
                raise ValueError(f"{path}:{n}: {e}") from None
    return rows


def _reading(s: SensorMap, active: bool, value: bool | float) -> dict[str, Any] | None:
    """The kind-specific fields of one reading (None: nothing to report, e.g. a flush ending)."""
    num = None if isinstance(value, bool) else value
    if s.kind in _BINARY:
        out: dict[str, Any] = {_BINARY[s.kind]: active}
        if s.kind == "door":
            out["exterior"] = s.exterior
        for k in ("target", "place", "appliance"):
            if getattr(s, k) is not None:
                out[k] = getattr(s, k)
        return out
    if not active:
        return {"w": 0.0} if s.kind == "power" else None
    if s.kind == "water":
        return {"event": s.event} | ({"litres": num} if num is not None else {})
    if s.kind == "button":
        return {"action": s.action}
    if num is None:
        raise ValueError(f"sensor {s.name!r} ({s.kind}) needs a numeric value")
    if s.kind == "power":
        return {"w": num} | ({"appliance": s.appliance} if s.appliance else {})
    if s.kind == "status":
        return {"battery_pct": num, "role": "device"}
    return {s.field or "temp_c": num}


def import_events(rows: Iterable[Row], mapping: Map, household: str, heartbeat_s: float = 600.0,
                  source: str = "import") -> tuple[dict[str, Any], list[Message]]:
    """The recording header and messages (publish time = observation time) of a sensor log."""
    if not ID_RE.match(household):
        raise ValueError(f"household id {household!r} breaks the contract's id grammar")
    points: list[tuple[float, int, int, SensorMap, bool, bool | float, bool]] = []
    for n, row in enumerate(rows):
        s = mapping.sensors.get(row.sensor)
        if s is None:
            raise ValueError(f"sensor {row.sensor!r} is not in the map")
        on = row.value if isinstance(row.value, bool) else row.value != 0
        points.append((row.time, 0, n, s, on, row.value, row.end is not None))
        if row.end is not None:
            if row.end < row.time:
                raise ValueError(f"sensor {row.sensor!r}: interval ends before it starts")
            points.append((row.end, 1, n, s, not on, row.value, True))
    # time order; at equal times starts before ends, so touching intervals merge
    points.sort(key=lambda p: (p[0], p[1], p[2]))
    events: list[tuple[float, int, int, str, dict[str, Any]]] = []  # (t, prio, n, device, f)
    depth: dict[str, int] = {}
    for t, prio, n, s, active, value, interval in points:
        if interval and s.kind in _BINARY:
            # intervals of one sensor may overlap: report only the 0 <-> 1 changes
            d = depth.get(s.device, 0) + (1 if prio == 0 else -1)
            depth[s.device] = d
            if (prio == 0 and d != 1) or (prio == 1 and d != 0):
                continue
        fields = _reading(s, active, value)
        if fields is not None:
            events.append((t, prio, n, s.device, fields))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    if heartbeat_s > 0 and events:
        if "gw-1" in {s.device for s in mapping.sensors.values()}:
            raise ValueError("the map uses device id gw-1, which the importer's gateway needs")
        t, last = events[0][0], events[-1][0]
        beats = []
        while t <= last:
            beats.append((t, 2, 0, "gw-1", {"online": True, "role": "gateway"}))
            t += heartbeat_s
        events = sorted(events + beats, key=lambda e: (e[0], e[1], e[2]))
    seq: dict[str, int] = {}
    kinds = {s.device: s.kind for s in mapping.sensors.values()} | {"gw-1": "status"}
    out = []
    for t, _o, _n, dev, fields in events:
        q = seq.get(dev, 0)
        seq[dev] = q + 1
        payload = orjson.dumps({"ts": round(t, 3), "seq": q} | fields)
        out.append(Message(round(t, 3), topic_for(household, dev, kinds[dev]), payload,
                           Cause.UNKNOWN))
    devices = [s.header() for s in mapping.sensors.values()]
    if heartbeat_s > 0:
        devices.append({"id": "gw-1", "kind": "status", "room": "", "exterior": False})
    header = {"anbu_recording": 1, "source": source, "seed": None, "causes": False,
              "households": [{"id": household, "timezone": mapping.timezone,
                              "devices": devices}]}
    return header, out
