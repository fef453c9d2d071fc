"""`anbu bench alerts`."""

from __future__ import annotations

import json
from typing import Any

import typer


def register(app: typer.Typer, bench_app: typer.Typer, **_: Any) -> None:
    @bench_app.command("alerts")
    def bench_alerts_cmd(
        alerts: int = typer.Option(1_000, help="Alerts raised at once."),
        database_url: str = typer.Option(
            "", help="Server to use (default: settings, 127.0.0.1:5432, then embedded)."
        ),
        json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """p99 from a finding to the planner's webhook, with many alerts in flight."""
        from pydantic import SecretStr

        from alerts.bench import run
        from anbu.runtime import endpoints
        from anbu.settings import Settings

        settings = Settings()
        if database_url:
            settings = settings.model_copy(update={"database_url": SecretStr(database_url)})
        with endpoints(settings, broker=False, prefer_local=True) as ep:
            result = run(alerts, ep.database_url)
        typer.echo(json.dumps(result) if json_out else json.dumps(result, indent=2))
