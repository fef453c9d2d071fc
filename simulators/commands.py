"""`anbu simulate`, `anbu replay`, `anbu import events|ordonez`, `anbu bench simulate|replay`.

Registered by anbu.cli. Only typer is imported at module level; each command imports what it
needs when it runs, so `anbu --help` stays fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from simulators.core import Message
    from simulators.publish import MqttPublisher

Opt = typer.Option


def _fail(msg: str) -> typer.Exit:
    typer.echo(f"error: {msg}", err=True)
    return typer.Exit(2)


def _start(text: str | None) -> float:
    from simulators.core import parse_time
    from simulators.fleet import DEFAULT_START

    if text is None:
        return DEFAULT_START
    if text == "now":
        import time

        return float(int(time.time()))
    return parse_time(text)


def simulate(
    households: Annotated[int, Opt("--households", "-n", help="Number of homes.")] = 10,
    days: Annotated[float, Opt(help="Virtual days to simulate.")] = 1.0,
    seed: Annotated[int, Opt(help="Same seed, same messages (byte for byte).")] = 0,
    scenario_mix: Annotated[str, Opt(
        help="none | default | incidents | faults | all | kinds, comma-separated.")] = "none",
    speed: Annotated[str, Opt(help="1 = real time, 3600 = an hour a second, max.")] = "max",
    publish: Annotated[str | None, Opt(help="mqtt://host:port to publish to.")] = None,
    record: Annotated[Path | None, Opt(help="Write a recording (.jsonl or .jsonl.gz).")] = None,
    labels: Annotated[Path | None, Opt(help="Write ground-truth labels (JSON Lines).")] = None,
    start: Annotated[str | None, Opt(
        help="Virtual start, RFC 3339 with offset, or 'now' (default 2026-06-01T00:00+09:00)."
    )] = None,
    personas: Annotated[str | None, Opt(
        help="Persona weights, e.g. older_regular=2,middle_aged_man=1.")] = None,
    sensors: Annotated[str | None, Opt(
        help="Sensor-set weights: standard, minimal, ordonez_a, ordonez_b (standard=4,...)."
    )] = None,
    floor_plan: Annotated[str | None, Opt(
        help="one_room | two_room | apartment for every home (default: by persona).")] = None,
) -> None:
    """Simulate a fleet of homes; publish it to a broker and/or record it."""
    from simulators.clock import Pacer, parse_speed
    from simulators.fleet import Fleet
    from simulators.home import DEFAULT_SENSOR_MIX
    from simulators.persona import DEFAULT_MIX, parse_persona_mix, parse_weights
    from simulators.recording import RecordingWriter, write_labels
    from simulators.replay import steady

    try:
        fleet = Fleet(households, days, seed, _start(start), scenario_mix,
                      parse_persona_mix(personas) if personas else DEFAULT_MIX,
                      parse_weights(sensors) if sensors else DEFAULT_SENSOR_MIX,
                      floor_plan=floor_plan)
        pace = parse_speed(speed)
    except ValueError as e:
        raise _fail(str(e)) from None
    writer = RecordingWriter(record, fleet.header()) if record else None
    pub = _publisher(publish) if publish else None
    pacer = Pacer(pace)
    n = 0
    try:
        with steady():
            for batch in fleet.batches():
                if writer:
                    writer.write(batch)
                if pub:
                    for m in batch:
                        pacer.wait(m.t)
                        pub.send(m)
                n += len(batch)
    finally:
        if writer:
            writer.close()
        if pub:
            pub.flush()
            pub.close()
    n_labels = write_labels(labels, fleet.labels()) if labels else len(fleet.labels())
    typer.echo(json.dumps({"messages": n, "households": households, "days": days,
                           "labels": n_labels, "record": str(record) if record else None}))


def _publisher(url: str) -> MqttPublisher:
    from simulators.publish import MqttPublisher, parse_url

    try:
        return MqttPublisher(parse_url(url))
    except (ValueError, ConnectionError, OSError) as e:
        raise _fail(str(e)) from None


def replay(
    file: Annotated[Path, typer.Argument(help="A recording (.jsonl or .jsonl.gz).")],
    speed: Annotated[str, Opt(help="1 = real time, 10, 3600, max.")] = "1",
    publish: Annotated[str | None, Opt(
        help="mqtt://host:port; without it, messages are printed (topic payload).")] = None,
    rebase_time: Annotated[bool, Opt(
        "--rebase-time", help="Shift t and payload ts so the recording ends now.")] = False,
) -> None:
    """Replay a recording, keeping inter-arrival times (scaled by --speed)."""
    import time

    from simulators.clock import Pacer, parse_speed
    from simulators.recording import last_time, open_recording
    from simulators.replay import play, rebase

    try:
        rec = open_recording(file)
        pacer = Pacer(parse_speed(speed))
    except (ValueError, OSError) as e:
        raise _fail(str(e)) from None
    messages = rec.messages()
    if rebase_time:
        last = last_time(file)
        if last is not None:
            messages = rebase(messages, time.time() - last)
    pub = _publisher(publish) if publish else None
    try:
        stats = play(messages, pub or _Printer(), pacer)
    finally:
        if pub is not None:
            pub.flush()
            pub.close()
    typer.echo(json.dumps({"sent": stats.sent}), err=not publish)


class _Printer:
    def send(self, msg: Message) -> None:
        sys.stdout.write(f"{msg.topic} {msg.payload.decode()}\n")


def import_events(
    csv_file: Annotated[Path, typer.Argument(metavar="CSV", help="time,sensor,value[,end]")],
    household: Annotated[str, Opt(help="Household id for the recording.")],
    map_file: Annotated[Path, Opt("--map", help="TOML map: sensor -> kind, room...")],
    out: Annotated[Path, Opt(help="Recording to write (.jsonl or .jsonl.gz).")],
    heartbeat: Annotated[float, Opt(help="Gateway heartbeat every N s (0: none).")] = 600.0,
) -> None:
    """Import a real sensor log (event CSV) as a recording."""
    from simulators.importer import import_events as run
    from simulators.importer import load_map, read_events
    from simulators.recording import write_recording

    try:
        mapping = load_map(map_file)
        header, msgs = run(read_events(csv_file, mapping.timezone), mapping, household,
                           heartbeat, source=f"import:{csv_file.name}")
    except (ValueError, OSError) as e:
        raise _fail(str(e)) from None
    n = write_recording(out, header, [msgs], markers=False)
    typer.echo(json.dumps({"messages": n, "out": str(out)}))


def import_ordonez(
    sensors: Annotated[Path, typer.Argument(help="OrdonezA_Sensors.txt or OrdonezB_...")],
    out: Annotated[Path, Opt(help="Event CSV to write.")],
    recording: Annotated[Path | None, Opt(
        help="Also import it with the shipped map into this recording.")] = None,
    household: Annotated[str, Opt(help="Household id for --recording.")] = "ordonez",
) -> None:
    """Convert an Ordonez ADL sensor file to the event CSV (and optionally a recording)."""
    from simulators import ordonez

    try:
        n = ordonez.to_csv(sensors, out)
        if recording is not None:
            import_events(out, household, ordonez.map_for(sensors), recording)
            return
    except (ValueError, OSError) as e:
        raise _fail(str(e)) from None
    typer.echo(json.dumps({"rows": n, "out": str(out)}))


def bench_simulate(
    json_out: Annotated[bool, Opt("--json", help="Print one JSON object (the default).")] = True,
    households: Annotated[int, Opt(help="Homes.")] = 200,
    days: Annotated[float, Opt(help="Virtual days.")] = 7.0,
    seed: Annotated[int, Opt()] = 1,
) -> None:
    """Generation as fast as possible (no publishing): messages_per_s."""
    from simulators.bench import bench_simulate as run

    typer.echo(json.dumps(run(households, days, seed)))


def bench_replay(
    json_out: Annotated[bool, Opt("--json", help="Print one JSON object (the default).")] = True,
    mqtt_url: Annotated[str, Opt(help="Broker to replay to.")] = "mqtt://127.0.0.1:1883",
    households: Annotated[int, Opt(help="Homes in the recording.")] = 200,
    minutes: Annotated[float, Opt(help="Length of the recording.")] = 60.0,
    speed: Annotated[float, Opt(help="Replay speed factor.")] = 10.0,
) -> None:
    """Replay a 1-hour recording at 10x to a broker: lateness p99, order of arrival."""
    from simulators.bench import bench_replay as run

    try:
        result = run(mqtt_url, households, minutes, speed)
    except (ValueError, ConnectionError, OSError) as e:
        raise _fail(str(e)) from None
    typer.echo(json.dumps(result))


def register(app: typer.Typer, bench_app: typer.Typer, import_app: typer.Typer) -> None:
    app.command("simulate")(simulate)
    app.command("replay")(replay)
    import_app.command("events")(import_events)
    import_app.command("ordonez")(import_ordonez)
    bench_app.command("simulate")(bench_simulate)
    bench_app.command("replay")(bench_replay)
