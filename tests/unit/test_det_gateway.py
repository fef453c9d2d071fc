"""A home whose only steady traffic is the gateway heartbeat (the imported Ordonez homes):
lost heartbeats are not an offline gateway; a gateway that really stops is."""

from __future__ import annotations

from datetime import UTC, datetime

from anbu.domain import Kind, Reading
from detectors.engine import Engine

T0 = 1_780_300_800.0  # 2026-06-01 08:00 UTC
BEAT = 600.0


def _beat(k: int) -> Reading:
    return Reading("hh-g", "gw-1", Kind.STATUS, datetime.fromtimestamp(T0 + k * BEAT, UTC), k,
                   None, {"online": True, "role": "gateway"})


def _run(lost: set[int], beats: int) -> tuple[list[str], list[bool]]:
    """Heartbeats 0..beats-1 without the `lost` ones; findings and offline state per tick."""
    e = Engine()
    kinds: list[str] = []
    offline: list[bool] = []
    for k in range(beats):
        if k not in lost:
            e.observe([_beat(k)])
        now = datetime.fromtimestamp(T0 + k * BEAT + 300.0, UTC)
        kinds += [f.kind for f in e.evaluate(now)]
        offline.append(e.state_of("hh-g", now.timestamp()) == "unknown")
    return kinds, offline


def test_four_heartbeats_lost_in_a_row_are_not_an_offline_gateway() -> None:
    kinds, offline = _run({3, 4, 5, 6}, 12)
    assert kinds == [] and not any(offline)


def test_a_gateway_that_stops_is_offline_and_reported() -> None:
    kinds, offline = _run(set(range(3, 40)), 40)
    # last heard at beat 2 (T0 + 20 min); offline after 55 min, reported 10 min later
    first = offline.index(True)
    assert T0 + first * BEAT + 300.0 - (T0 + 2 * BEAT) > 3300.0
    assert T0 + (first - 1) * BEAT + 300.0 - (T0 + 2 * BEAT) <= 3300.0
    assert kinds == ["device.gateway_offline"]
