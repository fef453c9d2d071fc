"""Robustness faults applied to any recording's message stream (seeded, causal, pure).

The simulator's scenario mixes give one fault kind per household (`spurious_motion` at 2/h or
6/h in the afternoon, `message_loss` at 5 %); the evaluation protocol asks for every home to
have ~1 spurious PIR trigger an hour *and* 10 % of messages dropped, and the same for imported
real homes. So the harness applies them here, to the stream it reads:

* `spurious_pir`: per household, a Poisson process of `per_hour` triggers on a PIR picked at
  random among the home's motion sensors: `motion: true`, then `motion: false` 60-90 s later
  (what a PIR sends for one blip), marked `Cause.FAULT` — never the person's, so an injected
  incident keeps them, as a pet or sunlight would go on;
* `drop`: each message is lost with probability `p` (heartbeats and last wills included).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping, Sequence

import numpy as np
import orjson
from numpy.typing import NDArray

from anbu.contract import topic_for
from simulators.core import Cause, Message

#: sequence numbers of injected triggers (far from any real device's own)
SEQ_BASE = 1_000_000_000


def spurious_times(rng: np.random.Generator, start: float, end: float, per_hour: float
                   ) -> NDArray[np.float64]:
    n = int(rng.poisson(per_hour * (end - start) / 3600.0))
    out: NDArray[np.float64] = np.sort(start + rng.random(n) * (end - start))
    return out


def spurious_pir(messages: Iterable[Message], pirs: Mapping[str, Sequence[str]], start: float,
                 end: float, per_hour: float, seed: int) -> Iterator[Message]:
    """`messages` merged with spurious PIR blips for every household that has a PIR."""
    if per_hour <= 0:
        yield from messages
        return
    extra: list[Message] = []
    for k, (hid, devs) in enumerate(sorted(pirs.items())):
        if not devs:
            continue
        rng = np.random.default_rng(np.random.SeedSequence([seed, k, 0x5C1]))
        times = spurious_times(rng, start, end, per_hour)
        which: list[int] = np.asarray(rng.integers(0, len(devs), times.shape[0])).tolist()
        clear: list[float] = np.asarray(rng.uniform(60.0, 90.0, times.shape[0])).tolist()
        for n, (t, d, c) in enumerate(zip(times.tolist(), which, clear, strict=True)):
            topic = topic_for(hid, devs[d], "motion")
            seq = SEQ_BASE + 2 * n
            for tt, on, q in ((t, True, seq), (t + c, False, seq + 1)):
                tt = round(tt, 3)
                payload = orjson.dumps({"ts": tt, "seq": q, "motion": on})
                extra.append(Message(tt, topic, payload, int(Cause.FAULT)))
    extra.sort(key=lambda m: m.t)
    yield from heapq.merge(messages, extra, key=lambda m: m.t)


def drop(messages: Iterable[Message], p: float, seed: int) -> Iterator[Message]:
    if p <= 0:
        yield from messages
        return
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xD20]))
    buf = rng.random(65536)
    k = 0
    for m in messages:
        if k == buf.shape[0]:
            buf = rng.random(65536)
            k = 0
        keep = buf[k] >= p
        k += 1
        if keep:
            yield m
