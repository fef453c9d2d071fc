"""The bounded hand-over between the MQTT callback (one producer) and the writer (one consumer).

`queue.Queue` takes a lock and signals a condition on every put and get: a few microseconds a
message, a tenth of all the ingester's work on single-reading messages. Here a put is a deque
append (atomic in CPython) and a get a popleft; the locks
are only touched to wake a writer that found nothing, or a producer that found it full.

Bounded all the same: when `maxsize` items wait, `put` blocks — the paho thread then stops
reading its socket and the broker holds the rest (backpressure, no loss).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Backlog(Generic[T]):
    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: deque[T] = deque()
        self._waiting = threading.Event()  # set: there may be items for the writer
        self._room = threading.Event()  # set: there may be room for the producer
        self._room.set()

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: T) -> None:
        items = self._items
        while len(items) >= self.maxsize:
            self._room.clear()
            if len(items) >= self.maxsize:  # re-check: the writer may have just taken some
                self._room.wait(0.1)
        items.append(item)
        if not self._waiting.is_set():
            self._waiting.set()

    def get(self, timeout: float) -> T | None:
        """The oldest item, waiting at most `timeout` seconds for one; None if none came."""
        items = self._items
        if not items:
            self._waiting.clear()
            if not items:  # re-check: a put between the test and the clear set it again
                self._waiting.wait(timeout)
        return self.get_nowait()

    def get_nowait(self) -> T | None:
        try:
            item = self._items.popleft()
        except IndexError:
            return None
        if not self._room.is_set():
            self._room.set()
        return item

    def wait(self, deadline: float) -> bool:
        """Wait until items are waiting or the (monotonic) deadline passes; True if any."""
        items = self._items
        while not items:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._waiting.clear()
            if not items:
                self._waiting.wait(left)
        return True
