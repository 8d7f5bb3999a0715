"""`promptyard report`: the leaderboard and charts of runs, as Markdown or offline HTML."""

from __future__ import annotations

from pathlib import Path

import typer

from promptyard.cli._common import fail, workspace
from promptyard.errors import PromptyardError


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `promptyard` app."""

    @app.command("report")
    def report(
        run_ids: list[int] = typer.Argument(..., help="One or more run ids.", metavar="RUN_ID"),
        fmt: str = typer.Option("md", "--format", "-f", help="md (tables) or html (with charts)."),
        out: Path | None = typer.Option(None, "--out", "-o", help="Write here, not to stdout."),
        scheme: str | None = typer.Option(None, "--scheme", help="Only this rating scheme."),
        monthly_calls: int = typer.Option(
            1_000_000, "--monthly-calls", min=1, help="Volume for the monthly cost column."
        ),
    ) -> None:
        """The leaderboard (quality, p50/p95 latency, cost) and charts of RUN_ID...

        HTML carries one inline copy of plotly.js, so the file opens offline.
        """
        from promptyard.reading import build_report

        try:
            body = build_report(
                workspace(), run_ids, fmt=fmt, scheme=scheme, calls_per_month=monthly_calls
            )
        except PromptyardError as exc:
            fail(str(exc))
        if out is None:
            typer.echo(body, nl=False)
            return
        try:
            out.write_text(body, encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {out}: {exc.strerror}")
        typer.echo(f"wrote {out} ({len(body.encode()) // 1024} KB)", err=True)
