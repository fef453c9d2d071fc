"""Detector settings: plain values given to the engine's constructor (never read from the
environment here; `anbu.settings` stays at the composition root)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DetectorSettings:
    # -- signs of life -------------------------------------------------------------------
    #: one sensor counts as a new sign of life at most once per this many seconds (a PIR
    #: re-reports every 30-60 s while movement goes on; a door opens and closes)
    refractory_s: float = 180.0
    #: assumed rate (per hour, per home) of motion triggers nobody caused (pets, sunlight):
    #: a lone PIR trigger is worth log(1 + λ/ρ) instead of a full reset
    noise_per_h: float = 0.5
    #: a noisy sign is corroborated when another device gave a sign this recently
    corroborate_s: float = 600.0
    #: a whole-home meter step up of at least this many watts is a switched-on appliance
    power_step_w: float = 250.0
    #: ...between two readings at most this far apart (the meter reports every 60 s)
    power_gap_s: float = 90.0

    # -- rhythm and inactivity -----------------------------------------------------------
    #: days of history before the learned model replaces the fixed thresholds
    warmup_days: float = 6.0
    #: memory of the learned rhythm and thresholds (decay time constant, days)
    memory_days: float = 28.0
    #: the fixed tiers used while warming up (and the 24 h safety net afterwards)
    fixed_hours: tuple[float, float, float] = (8.0, 12.0, 24.0)
    #: false-alarm budgets per household-month that set the learned thresholds
    caution_per_month: float = 4.0
    alarm_per_month: float = 0.2
    #: danger = this factor x the alarm threshold
    danger_factor: float = 1.6
    #: lowest learned thresholds, in expected signs of life
    min_caution: float = 4.0
    min_alarm: float = 8.0

    # -- home / away ---------------------------------------------------------------------
    #: after an exterior door event, no home evidence for this long means the person left
    away_confirm_s: float = 900.0
    #: evidence units that show the person is (back) home: a reliable sign counts 1.5, a
    #: motion trigger 0.5 (1 when corroborated)
    home_units: float = 1.5
    away_fixed_hours: tuple[float, float, float] = (12.0, 24.0, 48.0)
    away_min_hours: tuple[float, float] = (6.0, 16.0)
    isolation_days: float = 7.0
    wandering_alarm_s: float = 3600.0

    # -- devices -------------------------------------------------------------------------
    #: no reading from a home for this long (gateway heartbeats are every 10 min) = offline.
    #: Five heartbeats in a row: with 10 % of messages lost, a home whose only traffic is the
    #: heartbeat loses four in a row about 0.4 times a month, five about 0.04 times (at 25 min,
    #: two in a row, it looked offline daily, and those hours were unknown, not silence)
    gateway_timeout_s: float = 3300.0
    #: a device that sends status reports (every 6 h) and is silent this long is offline
    #: (four reports in a row lost: with 10 % of messages dropped, once in years)
    device_timeout_s: float = 26 * 3600.0
    battery_low_pct: float = 15.0
    #: a PIR that reports motion without ever clearing for this long is stuck
    stuck_s: float = 2 * 3600.0
    #: a daily sensor silent this long while the home is active is silent
    silent_s: float = 48 * 3600.0

    # -- vitals, climate, power ----------------------------------------------------------
    vitals_z: float = 4.0
    heat_c: tuple[float, float] = (31.0, 33.0)
    cold_c: tuple[float, float] = (12.0, 8.0)
    climate_span_s: float = 3600.0
    power_flat_h: tuple[float, float] = (30.0, 50.0)
    power_low_share: float = 0.5
