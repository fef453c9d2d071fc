"""Pure helpers for the pages: a household's board state and a resident's own range."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from detectors.vitals import CLINICAL

__all__ = ["CLINICAL", "STATES", "board_state", "own_range"]

#: board states, most urgent first
STATES = ("danger", "alarm", "caution", "device", "away", "normal")
_RANK = {3: "danger", 2: "alarm", 1: "caution"}


def board_state(person_rank: int | None, device_alerts: int | None, away: str | None) -> str:
    """What the board shows for a household.

    A person alert (not suppressed) outranks everything, then a device problem (a dead gateway
    must be seen, and must not look like a dead person), then an away window, then normal.
    """
    if person_rank:
        return _RANK[min(person_rank, 3)]
    if device_alerts:
        return "device"
    if away:
        return "away"
    return "normal"


def own_range(values: Sequence[float], min_n: int = 5) -> tuple[float, float] | None:
    """The resident's usual range of a measurement: mean ± 2 standard deviations."""
    if len(values) < min_n:
        return None
    mean = statistics.fmean(values)
    sd = statistics.stdev(values)
    return (round(mean - 2 * sd, 1), round(mean + 2 * sd, 1))
