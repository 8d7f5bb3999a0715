"""`promptyard monitor check|run`: evaluate monitors.yaml once (cron, CI) or on a schedule."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from promptyard.workspace import current_workspace

DELIVERY_WAIT_S = 30.0


def _print(report: object, as_json: bool) -> None:
    from promptyard.monitoring import CheckReport

    assert isinstance(report, CheckReport)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, default=str))
        return
    if report.warning:
        typer.echo(f"warning: {report.warning}", err=True)
    for r in report.results:
        mark = "FIRED" if r.fired else "ok   "
        typer.echo(f"{mark} {r.monitor}: {r.message}")
    for c in report.changes:
        p = "n/a" if c.p_value is None else f"{c.p_value:.3g}"
        typer.echo(
            f"change {c.change}: {c.metric} {c.before} ({c.before_count}) -> "
            f"{c.after} ({c.after_count}), p = {p}{' (worse)' if c.worse else ''}"
        )
    if not report.results:
        typer.echo(f"no monitors (monitors.yaml: {report.source})")


def register(app: typer.Typer) -> None:
    """Add `promptyard monitor check` and `promptyard monitor run`."""
    monitor_app = typer.Typer(help="Monitors over live traffic (monitors.yaml) and their alerts.")
    app.add_typer(monitor_app, name="monitor")

    @monitor_app.command("check")
    def check(
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
        workspace: Path | None = typer.Option(None, "--workspace", help="Workspace folder."),
    ) -> None:
        """Evaluate every monitor once; exit 1 when any fires (for cron and CI), or when
        monitors.yaml is bad and no committed version parses.

        Webhooks are sent in the background; the command waits for them at most 30 s.
        """
        from promptyard.monitoring import deliverer_for, run_checks

        ws = current_workspace(workspace)
        deliverer = deliverer_for(ws)
        report = run_checks(ws, deliverer=deliverer)
        _print(report, as_json)
        if not deliverer.wait(DELIVERY_WAIT_S):
            typer.echo("warning: a webhook is still being retried; giving up on it", err=True)
        # A bad file with no good commit to fall back on is bad input: exit 1 as well.
        if report.fired or (report.warning and report.source == "none"):
            raise typer.Exit(1)

    @monitor_app.command("run")
    def run(
        every: float = typer.Option(60.0, "--every", min=1.0, help="Seconds between checks."),
        workspace: Path | None = typer.Option(None, "--workspace", help="Workspace folder."),
    ) -> None:
        """Evaluate every monitor every `--every` seconds until Ctrl-C; webhooks go out in
        the background and never delay the next check."""
        from promptyard.monitoring import deliverer_for, run_checks

        ws = current_workspace(workspace)
        deliverer = deliverer_for(ws)
        try:
            while True:
                started = time.monotonic()
                _print(run_checks(ws, deliverer=deliverer), False)
                time.sleep(max(0.0, every - (time.monotonic() - started)))
        except KeyboardInterrupt:
            pass
