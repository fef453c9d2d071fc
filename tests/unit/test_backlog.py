"""The bounded hand-over between the MQTT callback and the writer."""

from __future__ import annotations

import threading
import time

from ingest.backlog import Backlog


def test_first_in_first_out_and_empty_is_none() -> None:
    b: Backlog[int] = Backlog(10)
    for i in range(5):
        b.put(i)
    assert [b.get_nowait() for _ in range(6)] == [0, 1, 2, 3, 4, None]
    t0 = time.monotonic()
    assert b.get(0.05) is None and time.monotonic() - t0 >= 0.04


def test_a_full_backlog_blocks_the_producer_until_the_writer_takes() -> None:
    b: Backlog[int] = Backlog(3)
    for i in range(3):
        b.put(i)
    done = threading.Event()

    def produce() -> None:
        b.put(3)  # blocks: full
        done.set()

    threading.Thread(target=produce, daemon=True).start()
    assert not done.wait(0.2) and len(b) == 3
    assert b.get_nowait() == 0
    assert done.wait(2) and len(b) == 3


def test_a_waiting_writer_wakes_on_put_and_nothing_is_lost() -> None:
    b: Backlog[int] = Backlog(50)
    got: list[int] = []

    def consume() -> None:
        while len(got) < 10_000:
            it = b.get(1.0)
            if it is not None:
                got.append(it)
                if b.wait(time.monotonic() + 0.001):
                    continue

    t = threading.Thread(target=consume)
    t.start()
    for i in range(10_000):
        b.put(i)
        if i % 997 == 0:
            time.sleep(0.002)  # let the writer run dry and wait
    t.join(20)
    assert got == list(range(10_000))


def test_wait_returns_at_the_deadline_when_nothing_comes() -> None:
    b: Backlog[int] = Backlog(1)
    t0 = time.monotonic()
    assert not b.wait(t0 + 0.05) and time.monotonic() - t0 >= 0.04
    b.put(1)
    assert b.wait(time.monotonic() + 5)
