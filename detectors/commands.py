"""`anbu eval` and `anbu bench detect`. Registered by anbu.cli; heavy imports happen inside the
commands so that `anbu --help` stays fast."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

Opt = typer.Option


def _fail(msg: str) -> typer.Exit:
    typer.echo(f"error: {msg}", err=True)
    return typer.Exit(2)


def eval_cmd(
    recording: Annotated[Path, typer.Argument(help="A recording (.jsonl or .jsonl.gz).")],
    labels: Annotated[Path | None, Opt(help="Ground-truth labels (JSON Lines).")] = None,
    detector: Annotated[list[str] | None, Opt(
        "--detector", help="anbu | fixed:Nh | fixed-any:Nh | smartplug; repeat. Default: "
        "anbu, fixed:8h, fixed:12h, fixed:24h, smartplug.")] = None,
    warmup_days: Annotated[float, Opt(help="Days not scored (and the detector's warm-up).")
                           ] = 7.0,
    alerts_out: Annotated[Path | None, Opt(help="Write one JSON line per alert raised.")
                          ] = None,
    inject_incidents: Annotated[int, Opt(help="Injected incidents (independent forks).")] = 0,
    seed: Annotated[int, Opt(help="Seed of the incident moments (and of the faults).")] = 0,
    spurious_per_hour: Annotated[float, Opt(
        help="Add spurious PIR triggers per hour per home (pets, sunlight).")] = 0.0,
    drop: Annotated[float, Opt(help="Drop this share of messages (0-1).")] = 0.0,
    tick_s: Annotated[float, Opt(help="Evaluate every N virtual seconds.")] = 120.0,
    markdown: Annotated[Path | None, Opt(help="Also write the results table (Markdown).")
                        ] = None,
    incidents_out: Annotated[Path | None, Opt(
        help="Write one JSON line per incident: its moment, time-of-day bucket, whether the "
             "person was out, and per detector when (and by which finding) it was found.")
                             ] = None,
    json_out: Annotated[bool, Opt("--json", help="Print one JSON object (the default).")
                        ] = True,
) -> None:
    """Run detectors over a recording in virtual time and score them (no broker, no DB)."""
    from dataclasses import replace

    from detectors import perturb
    from detectors.evaluate import DEFAULT_DETECTORS, evaluate, incident_line, make_detector
    from detectors.report import markdown as to_markdown
    from detectors.report import summarize, wake_reference
    from detectors.settings import DetectorSettings
    from simulators.core import parse_time, rfc3339
    from simulators.recording import open_recording, read_labels

    specs = list(detector or DEFAULT_DETECTORS)
    default = DetectorSettings()
    settings = replace(default, warmup_days=min(warmup_days, default.warmup_days))
    try:
        for spec in specs:
            make_detector(spec, settings)
        rec = open_recording(recording)
        lbs = read_labels(labels) if labels else None
    except (ValueError, OSError) as e:
        raise _fail(str(e)) from None
    header = rec.header
    if not 0.0 <= drop < 1.0:
        raise _fail("--drop must be in [0, 1)")
    if header.get("start") and header.get("end"):
        start, end = parse_time(header["start"]), parse_time(header["end"])
    else:
        first = last = None
        for m in rec.messages():
            first = m.t if first is None else first
            last = m.t
        if first is None or last is None:
            raise _fail("the recording holds no message")
        start, end = first, last
    pirs = {h["id"]: [d["id"] for d in h.get("devices", []) if d.get("kind") == "motion"]
            for h in header.get("households", [])}
    stream = perturb.drop(perturb.spurious_pir(rec.messages(), pirs, start, end,
                                               spurious_per_hour, seed), drop, seed)
    out = evaluate(header, stream, specs, settings, warmup_days * 86400.0, start, end,
                   inject_incidents, seed, lbs, tick_s)
    res = summarize(out)
    res["recording"] = str(recording)
    res["faults"] = {"spurious_pir_per_hour": spurious_per_hour, "drop": drop}
    res["seed"] = seed
    if alerts_out is not None:
        with alerts_out.open("w", encoding="utf-8") as f:
            for a in out.alerts:
                f.write(json.dumps({"household": a.household, "kind": a.kind,
                                    "severity": a.severity, "at": rfc3339(a.at),
                                    "detector": a.detector}) + "\n")
    if incidents_out is not None:
        with incidents_out.open("w", encoding="utf-8") as f:
            for inc in out.incidents:
                line = incident_line(inc, specs, wake_reference(out, inc))
                f.write(json.dumps(line, ensure_ascii=False) + "\n")
    if markdown is not None:
        part = "injected" if inject_incidents else "labelled"
        markdown.write_text(to_markdown(res, part) + "\n", encoding="utf-8")
    typer.echo(json.dumps(res))


def trend_cmd(
    recording: Annotated[Path, typer.Argument(help="A recording (.jsonl or .jsonl.gz).")],
    weeks: Annotated[int, Opt(help="Whole weeks in the report (the first two are the "
                                   "baseline, the last two the recent weeks).")] = 8,
    through: Annotated[str | None, Opt(help="Last local day of the report (YYYY-MM-DD); "
                                            "default: each home's last whole day.")] = None,
    json_out: Annotated[bool, Opt("--json", help="Print one JSON object (the default).")
                        ] = True,
) -> None:
    """The weekly slow-decline report: activity per household per week and its trend (a
    case-management signal, never an alarm)."""
    from datetime import UTC, date, datetime, timedelta
    from zoneinfo import ZoneInfo

    from detectors.trend import DailyActivity, report
    from ingest.decode import decode
    from simulators.recording import open_recording

    if weeks < 4:
        raise _fail("--weeks must be at least 4 (two baseline and two recent weeks)")
    try:
        rec = open_recording(recording)
        last_day = date.fromisoformat(through) if through else None
    except (ValueError, OSError) as e:
        raise _fail(str(e)) from None
    tz = {h["id"]: h.get("timezone") or "Asia/Seoul" for h in rec.header.get("households", [])}
    activity = DailyActivity(tz)
    end = None
    for m in rec.messages():
        activity.observe(decode(m.topic, m.payload, datetime.fromtimestamp(m.t, UTC)).readings)
        end = m.t
    if end is None:
        raise _fail("the recording holds no message")
    upto = {h: last_day or (datetime.fromtimestamp(end, ZoneInfo(z)).date() - timedelta(days=1))
            for h, z in tz.items()}
    rep = report(activity, upto, weeks=weeks)
    typer.echo(json.dumps({"recording": str(recording), "weeks": weeks,
                           "declining": sorted(h for h, t in rep.items() if t.declining),
                           "households": {h: t.as_dict() for h, t in rep.items()}},
                          ensure_ascii=False))


def trend_job_cmd(
    now: Annotated[str | None, Opt(help="Run as if at this moment (RFC 3339 with offset); "
                                        "default: now.")] = None,
    household: Annotated[list[str] | None, Opt(
        "--household", help="Only this household; repeat. Default: every active one.")] = None,
    recompute: Annotated[int, Opt(help="Also recount the last N due days already stored "
                                       "(late readings), 0-56.")] = 0,
    database_url: Annotated[str, Opt(help="Database (default: ANBU_DATABASE_URL).")] = "",
    json_out: Annotated[bool, Opt("--json", help="Print one JSON object (the default).")
                        ] = True,
) -> None:
    """Store each household's daily activity and weekly slow-decline report once (what `anbu
    run` does after every local midnight): the days not yet stored, at most the report's 8
    weeks, and the reports not through the last whole day."""
    from datetime import UTC, datetime

    from pydantic import SecretStr

    from anbu.runtime import endpoints
    from anbu.settings import Settings
    from anbu.storage.db import connect
    from anbu.storage.migrate import migrate
    from detectors.trend_job import TrendJob
    from simulators.core import parse_time

    if not 0 <= recompute <= 56:
        raise _fail("--recompute must be between 0 and 56 days")
    try:
        at = datetime.fromtimestamp(parse_time(now), UTC) if now else datetime.now(UTC)
    except ValueError as e:
        raise _fail(str(e)) from None
    settings = Settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": SecretStr(database_url)})
    with endpoints(settings, broker=False) as ep, connect(ep.database_url) as conn:
        migrate(conn)
        res = TrendJob().run(conn, at, household or None, recompute)
    typer.echo(json.dumps({"at": at.isoformat(), **res.as_dict()}))


def bench_trend(
    households: Annotated[int, Opt(help="Simulated homes.")] = 1_000,
    days: Annotated[float, Opt(help="Days of simulated readings (the last whole one is "
                                    "timed).")] = 2.0,
    seed: Annotated[int, Opt()] = 1,
    database_url: Annotated[str, Opt(help="Server to use (default: settings, "
                                          "127.0.0.1:5432, then embedded).")] = "",
    json_out: Annotated[bool, Opt("--json", help="Print one JSON object (the default).")
                        ] = True,
) -> None:
    """The daily trend job for many homes: one day's activity and every weekly report."""
    from pydantic import SecretStr

    from anbu.runtime import endpoints
    from anbu.settings import Settings
    from detectors.trend_bench import run

    if households < 1 or days < 2:
        raise _fail("--households must be >= 1 and --days >= 2")
    settings = Settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": SecretStr(database_url)})
    with endpoints(settings, broker=False, prefer_local=True) as ep:
        typer.echo(json.dumps(run(households, days, seed, ep.database_url)))


def bench_detect(
    households: Annotated[int, Opt(help="Households in the engine.")] = 100_000,
    ticks: Annotated[int, Opt(help="Evaluations to time.")] = 20,
    seed: Annotated[int, Opt()] = 1,
    json_out: Annotated[bool, Opt("--json", help="Print one JSON object (the default).")
                        ] = True,
) -> None:
    """One evaluation of every household: tick_ms, and bytes of state per household."""
    from detectors.bench import bench_detect as run

    typer.echo(json.dumps(run(households, ticks, seed)))


def register(app: typer.Typer, bench_app: typer.Typer, import_app: typer.Typer,
             **_: object) -> None:
    app.command("eval")(eval_cmd)
    app.command("trend")(trend_cmd)
    app.command("trend-job")(trend_job_cmd)
    bench_app.command("detect")(bench_detect)
    bench_app.command("trend")(bench_trend)
