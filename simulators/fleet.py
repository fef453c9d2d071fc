"""A fleet: N households built from one seed, merged into one time-ordered stream.

Household i draws its persona, sensor set and scenario from (seed, i) alone, so the same seed
gives the same fleet, byte for byte, and household 7 is the same whether the fleet has 10 homes
or 1,000. The households' own time-ordered streams are merged slice by slice of virtual time
(one stable numpy sort per slice, much cheaper per message than heapq.merge; ties go by
household, then household order); the merged stream is what the recorder writes and the
publisher paces.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import chain
from operator import itemgetter

import numpy as np

from simulators.core import Label, Message, rfc3339
from simulators.home import DEFAULT_SENSOR_MIX, FLOOR_PLANS, SENSOR_SETS
from simulators.household import HouseholdSim, make_household
from simulators.persona import DEFAULT_MIX, PERSONAS
from simulators.scenarios import get_mix

#: the default start: a Monday, midnight in Seoul (fixed, so runs are reproducible)
DEFAULT_START = datetime(2026, 6, 1, tzinfo=UTC).timestamp() - 9 * 3600.0


def _pick(weights: tuple[tuple[str, float], ...], u: float) -> str:
    w = np.array([x for _, x in weights], dtype=np.float64)
    cum = np.cumsum(w / w.sum())
    return weights[min(int(np.searchsorted(cum, u)), len(weights) - 1)][0]


class Fleet:
    def __init__(
        self,
        households: int,
        days: float,
        seed: int,
        start: float = DEFAULT_START,
        scenario_mix: str = "none",
        personas: tuple[tuple[str, float], ...] = DEFAULT_MIX,
        sensors: tuple[tuple[str, float], ...] = DEFAULT_SENSOR_MIX,
        timezone: str = "Asia/Seoul",
        prefix: str = "hh",
        floor_plan: str | None = None,
    ) -> None:
        if households < 1 or days <= 0:
            raise ValueError("a fleet needs at least one household and a positive duration")
        self.seed, self.start, self.end = seed, start, start + days * 86400.0
        self.mix = get_mix(scenario_mix)
        for name, _ in sensors:
            if name not in SENSOR_SETS:
                raise ValueError(f"unknown sensor set {name!r}; known: {', '.join(SENSOR_SETS)}")
        if floor_plan is not None and floor_plan not in FLOOR_PLANS:
            raise ValueError(f"unknown floor plan {floor_plan!r}; known: {', '.join(FLOOR_PLANS)}")
        self.households: list[HouseholdSim] = []
        for i in range(households):
            u = np.random.default_rng(np.random.SeedSequence([seed, i, 7])).random(2)
            persona = PERSONAS[_pick(personas, float(u[0]))]
            kit = _pick(sensors, float(u[1]))
            self.households.append(
                make_household(i, persona, kit, seed, start, self.end, self.mix, timezone,
                               prefix, floor_plan))
        self._consumed = False

    def messages(self) -> Iterator[Message]:
        """All households' messages in publish-time order (ties: by household, then as the
        household emitted them)."""
        for batch in self.batches():
            yield from batch

    def batches(self) -> Iterator[list[Message]]:
        """The same stream as `messages()`, as consecutive time-ordered lists (one per slice
        of virtual time), for consumers that write or count in bulk."""
        old = gc.get_threshold()
        # Millions of small live objects make CPython's default young-generation threshold
        # (700) trigger collections all the time (measured: ~30 % of generation time); nothing
        # here builds reference cycles, so collect rarely while streaming, then restore.
        gc.set_threshold(100_000, 10, 10)
        try:
            yield from self._merged()
        finally:
            gc.set_threshold(*old)
        self._consumed = True

    def _merged(self) -> Iterator[list[Message]]:
        streams = [h.chunks() for h in self.households]
        bufs: list[tuple[list[Message], np.ndarray]] = [([], np.zeros(0)) for _ in streams]
        live = list(range(len(streams)))
        step = max(60.0, 3600.0 * min(1.0, 200.0 / len(streams)))
        edge = self.start
        while live:
            edge += step
            parts: list[list[Message]] = []
            times: list[np.ndarray] = []
            for i in list(live):
                msgs, t = bufs[i]
                while t.shape[0] == 0 or t[-1] < edge:
                    if t.shape[0]:
                        parts.append(msgs)
                        times.append(t)
                    nxt = next(streams[i], None)
                    if nxt is None:
                        live.remove(i)
                        msgs, t = [], np.zeros(0)
                        break
                    msgs, t = nxt
                k = int(np.searchsorted(t, edge, side="left"))
                if k:
                    parts.append(msgs[:k])
                    times.append(t[:k])
                bufs[i] = (msgs[k:], t[k:])
            if len(parts) == 1:
                yield parts[0]
            elif parts:
                order = np.argsort(np.concatenate(times), kind="stable").tolist()
                flat = list(chain.from_iterable(parts))
                yield [flat[0]] if len(order) == 1 else list(itemgetter(*order)(flat))

    def labels(self) -> list[Label]:
        """Ground truth, ordered by start time. Complete once `messages()` has been consumed
        (some incident moments are found while the days are generated)."""
        if not self._consumed:
            raise RuntimeError("consume Fleet.messages() before asking for the labels")
        out = [lb for h in self.households for lb in h.labels]
        return sorted(out, key=lambda x: (x.start, x.household, x.kind))

    def header(self) -> dict[str, object]:
        return {
            "anbu_recording": 1,
            "source": "simulate",
            "seed": self.seed,
            "start": rfc3339(self.start),
            "end": rfc3339(self.end),
            "scenario_mix": self.mix.name,
            "causes": True,
            "households": [h.home.header() for h in self.households],
        }
