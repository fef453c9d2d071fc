from __future__ import annotations

import threading
import time

from simulators.core import Message
from simulators.fleet import Fleet
from simulators.live import run_live


def test_catches_up_fast_then_goes_live_and_stops_promptly() -> None:
    fleet = Fleet(2, 0.5, 3)
    start = fleet.start
    stop = threading.Event()
    sent: list[Message] = []
    now_virtual = start + 3 * 3600.0  # the wall clock is 3 h into the fleet's span

    def send(m: Message) -> None:
        sent.append(m)
        if m.t >= now_virtual:  # the first live message: stop the run
            stop.set()

    t0 = time.monotonic()
    n = run_live(fleet, send, speed=1e9, stop=stop, wall=lambda: now_virtual)
    assert time.monotonic() - t0 < 5.0  # history at 1e9x, then one live message, then stop
    assert n == len(sent) > 100
    assert [m.t for m in sent] == sorted(m.t for m in sent)
    assert sent[-1].t >= now_virtual > sent[-2].t
