"""A live simulated district: catch up on recent history fast, then go on in real time.

Virtual time starts in the past and runs at `speed` until it reaches the wall clock; from then
on messages are sent as they happen. Every timestamp is therefore real and never in the
future, so the rest of anbu (ingest, detectors, the dashboard) sees a plausible district whose
recent days are already on the record when a demo opens.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from simulators.clock import Pacer
from simulators.core import Message
from simulators.fleet import Fleet


class LiveClock:
    """The district's time: the replay's virtual time while it catches up, then the wall clock.

    Give it to the rest of anbu in a demo, so that detection and escalation see the replayed
    days as they unfold, instead of two days of "silence" before the replay reaches now.
    """

    def __init__(self, start: float, wall: Callable[[], float] = time.time) -> None:
        self.virtual = start
        self.live = False
        self.wall = wall

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.wall() if self.live else self.virtual, UTC)


def run_live(
    fleet: Fleet,
    send: Callable[[Message], None],
    speed: float,
    stop: threading.Event,
    wall: Callable[[], float] = time.time,
    clock: LiveClock | None = None,
) -> int:
    """Send the fleet's messages until it ends or `stop` is set; returns how many were sent."""

    def nap(seconds: float) -> None:
        stop.wait(seconds)  # a sleep that Ctrl-C (stop) cuts short

    pacer = Pacer(speed, sleep=nap)
    live = False
    n = 0
    for batch in fleet.batches():
        for m in batch:
            if stop.is_set():
                return n
            if not live and m.t >= wall():
                pacer, live = Pacer(1.0, sleep=nap), True
                if clock is not None:
                    clock.live = True
            pacer.wait(m.t)
            if stop.is_set():
                return n
            send(m)
            n += 1
            if clock is not None and not live:
                clock.virtual = m.t
    return n
