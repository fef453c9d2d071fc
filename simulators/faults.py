"""Device and delivery faults, on demand: what a real fleet does to a clean stream.

Device faults change what a device reports (spurious PIR triggers from a pet or sunlight, a PIR
stuck reporting motion, a battery running flat). Delivery faults change what reaches the broker
and when (dropped messages, QoS 1 duplicates, delayed/out-of-order delivery, a device clock off
by hours, the gateway offline for hours — with its last-will message, and nothing from any of
its devices until it reconnects). Every fault with a time span gets a ground-truth label.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulators.wire import Events


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Faults of one household. Times are epoch seconds."""

    drop_p: float = 0.0
    dup_p: float = 0.0
    delay_p: float = 0.0
    delay_max_s: float = 120.0
    #: (device id, triggers per hour, (first local hour, last local hour)) — pets, sunlight
    spurious: tuple[tuple[str, float, tuple[float, float]], ...] = ()
    #: (device id, from) — a PIR that keeps reporting motion every blind period
    stuck: tuple[str, float] | None = None
    #: (device id, when the battery is flat)
    dead_battery: tuple[str, float] | None = None
    #: (device id, offset seconds, from, until) — payload `ts` off by `offset`
    skew: tuple[str, float, float, float] | None = None
    #: (from, until) spans with the gateway offline
    gateway_offline: tuple[tuple[float, float], ...] = field(default_factory=tuple)

    @property
    def delivery(self) -> bool:
        return bool(self.drop_p or self.dup_p or self.delay_p)


NO_FAULTS = FaultPlan()
#: the broker notices a dead gateway after 1.5 x its 60 s keep-alive
WILL_DELAY_S = 90.0


def deliver(ev: Events, seq: np.ndarray, plan: FaultPlan, rng: np.random.Generator
            ) -> tuple[Events, np.ndarray, np.ndarray]:
    """Drops, duplicates and delays: returns (events, seq, publish times), unsorted."""
    n = len(ev)
    t_pub = ev.t.copy()
    if not plan.delivery or n == 0:
        return ev, seq, t_pub
    u = rng.random((3, n))
    keep = u[0] >= plan.drop_p
    delayed = u[2] < plan.delay_p
    t_pub = t_pub + np.where(delayed, rng.uniform(2.0, plan.delay_max_s, n), 0.0)
    idx = np.flatnonzero(keep)
    dup = idx[u[1][idx] < plan.dup_p]
    both = np.concatenate((idx, dup))
    t_both = np.concatenate((t_pub[idx], t_pub[dup] + rng.uniform(0.05, 3.0, dup.shape[0])))
    return ev.take(both), seq[both], t_both


def gateway_filter(ev: Events, spans: tuple[tuple[float, float], ...]) -> np.ndarray:
    """Mask of events that get through: nothing is forwarded while the gateway is offline."""
    ok = np.ones(len(ev), dtype=bool)
    for a, b in spans:
        ok &= ~((ev.t >= a) & (ev.t < b))
    return ok
