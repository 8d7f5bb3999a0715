"""`promptyard worker`: serve queued runs (`promptyard run --queue`) from a shared database."""

from __future__ import annotations

import os
import signal
from typing import Any

import typer

from promptyard.cli._common import fail
from promptyard.workspace import DATABASE_URL_ENV, HOME_ENV


def _interrupt(*_args: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM as Ctrl-C: claimed cells go back before exiting


def register(app: typer.Typer) -> None:
    """Add `worker` to the `promptyard` app."""

    @app.command("worker")
    def worker(
        database_url: str | None = typer.Option(
            None, "--database-url", help="the shared database (else PROMPTYARD_DATABASE_URL)"
        ),
        workspace_dir: str | None = typer.Option(
            None, "--workspace", help="the workspace whose models.yaml names the endpoints"
        ),
        until_idle: bool = typer.Option(
            False, "--until-idle", help="exit when no queued run has cells left"
        ),
        poll: float = typer.Option(2.0, "--poll", min=0.1, help="seconds between looks"),
    ) -> None:
        """Claim and send cells of queued runs, with every other worker, until stopped.

        Per-model limits and each run's budget hold over all workers together; a worker
        that dies gives its cells back when its lease lapses; a database that goes away
        pauses the worker until it is back.
        """
        from promptyard import runs
        from promptyard.workspace import current_workspace

        if database_url:
            os.environ[DATABASE_URL_ENV] = database_url
        if workspace_dir:
            if not os.path.isdir(workspace_dir):
                fail(f"--workspace {workspace_dir}: no such folder")
            os.environ[HOME_ENV] = os.path.abspath(workspace_dir)
        ws = current_workspace()
        signal.signal(signal.SIGTERM, _interrupt)
        typer.echo(f"worker {os.getpid()}: serving queued runs", err=True)
        try:
            report = runs.serve_queue(
                ws, until_idle=until_idle, poll_s=poll, say=lambda line: typer.echo(line, err=True)
            )
        except KeyboardInterrupt:
            typer.echo(f"worker {os.getpid()}: stopped", err=True)
            raise typer.Exit(0) from None
        typer.echo(f"worker {os.getpid()}: {report.runs} run(s), {report.stored} cells stored")
