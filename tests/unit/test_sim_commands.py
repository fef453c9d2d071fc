"""The CLI: simulate, replay (printing), import events/ordonez, bench simulate."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from simulators.commands import register
from simulators.recording import open_recording, read_labels

runner = CliRunner()


def _app() -> typer.Typer:
    app, bench, imp = typer.Typer(), typer.Typer(), typer.Typer()
    app.add_typer(bench, name="bench")
    app.add_typer(imp, name="import")
    register(app, bench, imp)
    return app


def test_simulate_record_and_labels(tmp_path: Path) -> None:
    rec, lab = tmp_path / "r.jsonl.gz", tmp_path / "l.jsonl"
    args = ["simulate", "--households", "4", "--days", "2", "--seed", "3",
            "--scenario-mix", "incidents", "--record", str(rec), "--labels", str(lab),
            "--start", "2026-01-05T00:00:00+09:00"]
    res = runner.invoke(_app(), args)
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    r = open_recording(rec)
    assert out["messages"] == sum(1 for _ in r.messages()) > 1000
    assert r.header["start"] == "2026-01-04T15:00:00.000+00:00"
    assert len(read_labels(lab)) == out["labels"] == 4
    again = tmp_path / "again.jsonl.gz"
    args[args.index(str(rec))] = str(again)
    assert runner.invoke(_app(), args).exit_code == 0
    assert again.read_bytes() == rec.read_bytes()


def test_bad_arguments() -> None:
    res = runner.invoke(_app(), ["simulate", "--scenario-mix", "zombies"])
    assert res.exit_code == 2 and "unknown scenario mix" in res.output
    res = runner.invoke(_app(), ["simulate", "--speed", "fast"])
    assert res.exit_code == 2


def test_replay_prints_without_broker(tmp_path: Path) -> None:
    rec = tmp_path / "r.jsonl"
    runner.invoke(_app(), ["simulate", "-n", "1", "--days", "0.05", "--record", str(rec)])
    res = runner.invoke(_app(), ["replay", str(rec), "--speed", "max", "--rebase-time"])
    assert res.exit_code == 0, res.output
    lines = [x for x in res.stdout.splitlines() if x.startswith("anbu/v1/")]
    assert len(lines) == sum(1 for _ in open_recording(rec).messages())
    topic, payload = lines[-1].split(" ", 1)
    assert topic.startswith("anbu/v1/hh-0001/") and json.loads(payload)


def test_import_events_command(tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text(
        'timezone = "Asia/Seoul"\n[sensors."Front door"]\nkind = "door"\nroom = "hall"\n'
        "exterior = true\n")
    (tmp_path / "e.csv").write_text(
        "time,sensor,value\n2026-11-22T08:00:00,Front door,OPEN\n"
        "2026-11-22T09:00:00,Front door,CLOSED\n")
    out = tmp_path / "o.jsonl"
    res = runner.invoke(_app(), ["import", "events", str(tmp_path / "e.csv"), "--household",
                                 "hh-7", "--map", str(tmp_path / "m.toml"), "--out", str(out),
                                 "--heartbeat", "600"])
    assert res.exit_code == 0, res.output
    rec = open_recording(out)
    msgs = list(rec.messages())
    assert sum(1 for m in msgs if m.topic.endswith("/door")) == 2
    assert sum(1 for m in msgs if m.topic.endswith("/gw-1/status")) == 7
    assert rec.header["households"][0]["id"] == "hh-7"


def test_bench_simulate_prints_json() -> None:
    res = runner.invoke(_app(), ["bench", "simulate", "--json", "--households", "5",
                                 "--days", "1"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["messages_per_s"] > 0 and out["messages"] > 5000


def test_sensor_sets_and_floor_plans(tmp_path: Path) -> None:
    rec = tmp_path / "r.jsonl"
    res = runner.invoke(_app(), ["simulate", "-n", "3", "--days", "0.2", "--sensors",
                                 "minimal", "--floor-plan", "one_room", "--personas",
                                 "limited_mobility", "--record", str(rec)])
    assert res.exit_code == 0, res.output
    homes = open_recording(rec).header["households"]
    assert {(h["sensors"], h["floor_plan"], h["persona"]) for h in homes} == {
        ("minimal", "one_room", "limited_mobility")}
    assert runner.invoke(_app(), ["simulate", "--floor-plan", "castle"]).exit_code == 2
