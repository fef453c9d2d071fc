"""The Ordonez ADL datasets (UCI, CC BY 4.0) -> the event CSV the importer reads.

`Ordonez{A,B}_Sensors.txt`: two header lines, then one activation interval per line,
tab-separated: `start  end  location  type  place` in local time (Madrid), e.g.
`2011-11-28 10:21:44  2011-11-28 10:23:31  Basin  PIR  Bathroom` (tabs). Each line becomes a
CSV row `time,sensor,value,end` with the sensor named "Location Type Place" ("Basin PIR
Bathroom"), which `simulators/maps/ordonez_{a,b}.toml` map to contract kinds.
Cite: F.J. Ordóñez, P. de Toledo, A. Sanchis, Sensors 13 (2013) 5460–5477.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

MAPS_DIR = Path(__file__).parent / "maps"


@dataclass(frozen=True, slots=True)
class Interval:
    start: str
    end: str
    location: str
    type: str
    place: str

    @property
    def sensor(self) -> str:
        return f"{self.location} {self.type} {self.place}"


def read_sensors(path: Path) -> list[Interval]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()[2:], start=3):
        cols = [c.strip() for c in re.split(r"\t+", line.strip()) if c.strip()]
        if not cols:
            continue
        if len(cols) != 5:
            raise ValueError(f"{path}:{n}: expected 5 tab-separated columns, got {cols!r}")
        out.append(Interval(*cols))
    return out


def to_csv(sensors_txt: Path, out_csv: Path) -> int:
    """Write the event CSV (times stay local; the map's time zone is Europe/Madrid)."""
    rows = read_sensors(sensors_txt)
    with out_csv.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["time", "sensor", "value", "end"])
        for r in rows:
            w.writerow([r.start.replace(" ", "T"), r.sensor, "ON", r.end.replace(" ", "T")])
    return len(rows)


def map_for(sensors_txt: Path) -> Path:
    """The shipped map for OrdonezA/OrdonezB files."""
    name = sensors_txt.name.lower()
    for home in ("a", "b"):
        if name.startswith(f"ordonez{home}"):
            return MAPS_DIR / f"ordonez_{home}.toml"
    raise ValueError(f"{sensors_txt}: not an OrdonezA/OrdonezB file")
