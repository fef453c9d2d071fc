"""`anbu bench dashboard`."""

from __future__ import annotations

import json
from typing import Any

import typer


def register(app: typer.Typer, bench_app: typer.Typer, **_: Any) -> None:
    @bench_app.command("dashboard")
    def bench_dashboard_cmd(
        households: int = typer.Option(10_000, help="Households on the board."),
        clients: int = typer.Option(100, help="Pages connected for live updates."),
        alerts: int = typer.Option(20, help="Alerts raised, one after another."),
        requests: int = typer.Option(40, help="Board page loads timed."),
        database_url: str = typer.Option(
            "", help="Server to use (default: settings, 127.0.0.1:5432, then embedded)."
        ),
        json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Board render time for many households, and push latency to many live pages."""
        from pydantic import SecretStr

        from anbu.runtime import endpoints
        from anbu.settings import Settings
        from dashboard.bench import run

        if min(households, clients, alerts, requests) < 1:
            raise typer.BadParameter("households, clients, alerts and requests must be >= 1")
        settings = Settings()
        if database_url:
            settings = settings.model_copy(update={"database_url": SecretStr(database_url)})
        with endpoints(settings, broker=False, prefer_local=True) as ep:
            result = run(households, clients, alerts, ep.database_url, requests)
        typer.echo(json.dumps(result) if json_out else json.dumps(result, indent=2))
