"""Event CSV + TOML map -> recording; the Ordonez converter and its shipped maps."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from ingest.decode import decode
from simulators import ordonez
from simulators.core import Message
from simulators.importer import import_events, load_map, read_events

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "ordonez"
needs_data = pytest.mark.skipif(
    not DATA.is_dir(), reason=f"Ordonez data not found at {DATA} (../shared/data/ordonez)")

MAP = """
timezone = "Asia/Seoul"
[sensors."Front door"]
kind = "door"
room = "hall"
exterior = true
device = "door-front"
[sensors."Hall PIR"]
kind = "motion"
room = "hall"
[sensors."Fridge"]
kind = "contact"
room = "kitchen"
target = "fridge"
[sensors."Toilet"]
kind = "water"
room = "bathroom"
[sensors."Meter"]
kind = "power"
room = "kitchen"
[sensors."Pulse"]
kind = "health"
room = "living"
field = "pulse_bpm"
"""

CSV = """time,sensor,value,end
2026-11-22T08:00:00+09:00,Front door,OPEN,
2026-11-22T08:00:07+09:00,Front door,CLOSED,
2026-11-22T08:01:00,Hall PIR,ON,2026-11-22T08:02:00
2026-11-22T08:01:30,Hall PIR,,2026-11-22T08:03:00
2026-11-22T08:05:00,Fridge,ON,2026-11-22T08:05:20
2026-11-22T08:06:00,Toilet,6,
2026-11-22T08:07:00,Meter,350.5,
2026-11-22T08:08:00,Pulse,71,
"""


def _import(tmp_path: Path, heartbeat: float = 600.0) -> tuple[dict[str, object], list[Message]]:
    (tmp_path / "m.toml").write_text(MAP)
    (tmp_path / "e.csv").write_text(CSV)
    mapping = load_map(tmp_path / "m.toml")
    return import_events(read_events(tmp_path / "e.csv", mapping.timezone), mapping, "hh-9",
                         heartbeat)


def _decodes(msgs: list[Message]) -> None:
    for m in msgs:
        d = decode(m.topic, m.payload, datetime.fromtimestamp(m.t, UTC))
        assert d.dead == [] and d.readings, m


def test_import_events(tmp_path: Path) -> None:
    header, msgs = _import(tmp_path, heartbeat=0)
    _decodes(msgs)
    got = [(m.topic.split("/")[3], orjson.loads(m.payload)) for m in msgs]
    start = datetime.fromisoformat("2026-11-22T08:00:00+09:00").timestamp()
    assert msgs[0].t == start
    assert [g[0] for g in got] == ["door-front", "door-front", "hall-pir", "hall-pir",
                                   "fridge", "fridge", "toilet", "meter", "pulse"]
    assert got[0][1] == {"ts": start, "seq": 0, "open": True, "exterior": True}
    assert got[1][1]["open"] is False and got[1][1]["seq"] == 1
    # two overlapping PIR intervals merge into one activation 08:01:00 - 08:03:00
    assert [g[1]["motion"] for g in got[2:4]] == [True, False]
    assert msgs[3].t - msgs[2].t == 120.0
    assert got[4][1]["target"] == "fridge"
    assert got[6][1] == {"ts": start + 360, "seq": 0, "event": "flush", "litres": 6.0}
    assert got[7][1]["w"] == 350.5 and got[8][1]["pulse_bpm"] == 71.0
    assert header["households"][0]["timezone"] == "Asia/Seoul"  # type: ignore[index]


def test_heartbeats_cover_the_log(tmp_path: Path) -> None:
    _, msgs = _import(tmp_path, heartbeat=60.0)
    _decodes(msgs)
    beats = [m.t for m in msgs if m.topic.endswith("/gw-1/status")]
    assert beats[0] == msgs[0].t and beats[-1] >= msgs[-1].t - 60.0
    assert {round(b - a) for a, b in zip(beats, beats[1:], strict=False)} == {60}


def test_bad_inputs(tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text('timezone = "Asia/Seoul"\n[sensors.x]\nkind = "smell"\n')
    with pytest.raises(ValueError, match="valid contract kind"):
        load_map(tmp_path / "m.toml")
    (tmp_path / "m.toml").write_text(MAP)
    (tmp_path / "e.csv").write_text("time,sensor,value\n2026-01-01T00:00:00,Nope,ON\n")
    mapping = load_map(tmp_path / "m.toml")
    with pytest.raises(ValueError, match="not in the map"):
        import_events(read_events(tmp_path / "e.csv", mapping.timezone), mapping, "hh-1")
    (tmp_path / "e.csv").write_text("time,sensor,value\n2026-01-01T00:00:00,Fridge,MAYBE\n")
    with pytest.raises(ValueError, match="e.csv:2"):
        read_events(tmp_path / "e.csv", mapping.timezone)


@needs_data
@pytest.mark.parametrize("home", ["A", "B"])
def test_ordonez_maps_cover_every_sensor(tmp_path: Path, home: str) -> None:
    src = DATA / f"Ordonez{home}_Sensors.txt"
    rows = ordonez.read_sensors(src)
    mapping = load_map(ordonez.map_for(src))
    assert {r.sensor for r in rows} == set(mapping.sensors)
    n = ordonez.to_csv(src, tmp_path / "e.csv")
    assert n == len(rows) == {"A": 409, "B": 2334}[home]
    header, msgs = import_events(read_events(tmp_path / "e.csv", mapping.timezone), mapping,
                                 f"ordonez-{home.lower()}")
    _decodes(msgs)
    first = datetime.fromtimestamp(msgs[0].t, UTC)
    assert first.year in (2011, 2012) and header["causes"] is False
    assert [m.t for m in msgs] == sorted(m.t for m in msgs)
