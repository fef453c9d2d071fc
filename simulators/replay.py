"""Replaying a stream: pacing it to a sink, and rebasing its times (`--rebase-time`).

Rebasing shifts both the publish time `t` and each payload's own `ts` (epoch number or RFC 3339
string, in a single reading or in every item of an array) by the same offset, so a recording
from 2011 can be replayed as if it ended just now. Payloads without `ts` (a gateway's last will)
are left alone. The pacing loop is shared by `anbu replay` and `anbu simulate --publish`.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import orjson

from simulators.clock import Pacer
from simulators.core import Message


class Sink(Protocol):
    def send(self, msg: Message) -> None: ...


def _shift_ts(item: Any, offset: float) -> Any:
    if not isinstance(item, dict) or "ts" not in item:
        return item
    ts = item["ts"]
    if isinstance(ts, bool):
        return item
    if isinstance(ts, int | float):
        item["ts"] = round(ts + offset, 3)
    elif isinstance(ts, str):
        try:
            d = datetime.fromisoformat(ts)
        except ValueError:
            return item  # not ours to fix: ingest will dead-letter it as it stands
        item["ts"] = (d + timedelta(seconds=offset)).isoformat()
    return item


def shift_payload(payload: bytes, offset: float) -> bytes:
    """The payload with its `ts` (or every item's `ts`) moved by `offset` seconds."""
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return payload
    items = doc if isinstance(doc, list) else [doc]
    moved = [_shift_ts(i, offset) for i in items]
    return orjson.dumps(moved if isinstance(doc, list) else moved[0])


def rebase(messages: Iterable[Message], offset: float) -> Iterator[Message]:
    for m in messages:
        yield Message(round(m.t + offset, 3), m.topic, shift_payload(m.payload, offset), m.cause)


@dataclass(slots=True)
class PlayStats:
    sent: int = 0
    #: seconds each send happened after its deadline (negative: early, which pacing avoids)
    lateness: list[float] = field(default_factory=list)


@contextmanager
def steady() -> Iterator[None]:
    """Keep pauses out of a paced loop: move what exists out of the collector's way (a full
    collection over a big heap takes tens of ms) and let a woken sender get the GIL sooner
    from the MQTT network thread. Both are restored afterwards."""
    gc.collect()
    gc.freeze()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
        gc.unfreeze()


def play(messages: Iterable[Message], sink: Sink, pacer: Pacer,
         monotonic: Callable[[], float] | None = None, measure: bool = False) -> PlayStats:
    """Send every message when its time is due. With `measure`, record each send's lateness
    (deadline to the moment `sink.send` returned)."""
    stats = PlayStats()
    clock = monotonic or pacer.monotonic
    with steady():
        for m in messages:
            due = pacer.wait(m.t)
            sink.send(m)
            stats.sent += 1
            if measure:
                stats.lateness.append(clock() - due)
    return stats
