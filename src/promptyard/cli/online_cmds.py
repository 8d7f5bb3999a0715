"""`promptyard online-eval`: score the LLM spans received since the last pass, now.

For cron and tests; `promptyard collect` also enqueues passes in the background worker.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import typer

from promptyard.workspace import current_workspace


def register(app: typer.Typer) -> None:
    """Add `promptyard online-eval` to the `promptyard` app."""

    @app.command("online-eval")
    def online_eval(
        once: bool = typer.Option(False, "--once", help="One pass, then exit (for cron)."),
        every: float = typer.Option(
            60.0, "--every", min=1.0, help="Seconds between passes without --once."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print each pass as JSON."),
        workspace: Path | None = typer.Option(None, "--workspace", help="Workspace folder."),
    ) -> None:
        """Score received spans with every suite that has an `online:` block.

        Each span is scored once per suite; judges stay within the suite's daily budget.
        Without --once, a pass runs every --every seconds until Ctrl-C.
        """
        from promptyard.cli._common import emit_json
        from promptyard.evals.online import score_pending_now

        ws = current_workspace(workspace)
        try:
            while True:
                report = score_pending_now(ws)
                if as_json:
                    emit_json(asdict(report))
                else:
                    typer.echo(report.line())
                if once:
                    return
                time.sleep(every)
        except KeyboardInterrupt:
            pass
