"""Virtual time and pacing: the generators live in virtual time; only the pacer meets the wall.

`--speed 1` is real time, `--speed 3600` an hour of virtual time per second, `--speed max` as
fast as possible (no waiting at all). The pacer maps virtual time t to a wall-clock deadline
`wall0 + (t - t0) / speed` and sleeps until it, so inter-arrival times are kept (scaled) and a
late message does not push the schedule of the next ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def parse_speed(text: str) -> float | None:
    """"max" -> None (no pacing); "1", "10", "3600", "10x" -> that factor (> 0)."""
    s = text.strip().lower()
    if s in ("max", "inf"):
        return None
    s = s.removesuffix("x")
    try:
        v = float(s)
    except ValueError:
        raise ValueError(f"speed must be a number (1 = real time, 3600, ...) or 'max', "
                         f"not {text!r}") from None
    if not v > 0:
        raise ValueError(f"speed must be positive, not {text!r}")
    return v


class Pacer:
    """Waits until each virtual time's wall-clock deadline. Clock and sleep are injectable."""

    def __init__(self, speed: float | None,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.speed = speed
        self.monotonic, self.sleep = monotonic, sleep
        self.t0: float | None = None
        self.wall0 = 0.0

    def deadline(self, t: float) -> float:
        """The wall-clock (monotonic) time at which virtual time `t` is due."""
        if self.t0 is None:
            self.t0, self.wall0 = t, self.monotonic()
        if self.speed is None:
            return self.wall0
        return self.wall0 + (t - self.t0) / self.speed

    def wait(self, t: float) -> float:
        """Sleep until `t` is due; return the deadline (so a caller can measure lateness)."""
        due = self.deadline(t)
        if self.speed is not None:
            delay = due - self.monotonic()
            if delay > 0:
                self.sleep(delay)
        return due
