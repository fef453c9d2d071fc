"""Simulated households and device fleets, incident scenarios, record and replay.

The generators are pure and seeded: the same seed gives the same messages, byte for byte, and
nothing here reads the wall clock except the pacing edge (`simulators.clock.Pacer`) and the
MQTT adapter (`simulators.publish`). Layers, from the person to the wire:

    persona, home ─▶ model (a day as activities in places, happenings, appliance loads)
                 ─▶ incidents (truncate what the person does after a collapse, ...)
                 ─▶ devices, power, climate (PIR re-trigger, meter readings, heartbeats ...)
                 ─▶ faults (drops, duplicates, delays, skew ...)
                 ─▶ Message(t, topic, payload, cause)
    household streams ─▶ fleet (merged in time order) ─▶ recording / MQTT publisher

See docs/simulation.md (the model and its realism figures) and docs/recording.md (formats).
Nothing heavy is imported here, so `anbu --help` stays fast.
"""

from __future__ import annotations
