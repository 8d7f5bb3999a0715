"""The `promptyard` command. Each area registers its commands from its own module."""

from __future__ import annotations

import typer

from promptyard._env import configure_offline_defaults
from promptyard.disk_errors import disk_error
from promptyard.errors import PromptyardError

app = typer.Typer(
    name="promptyard",
    help="Promptyard: git-versioned prompts, runs across models, ratings, judges and charts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    from promptyard.cli import (
        bundle_cmds,
        collect_cmds,
        dataset_cmds,
        eval_cmds,
        export_cmds,
        guardrails_cmds,
        import_cmds,
        monitor_cmds,
        online_cmds,
        prompt_cmds,
        ratings_cmds,
        report_cmds,
        robustness_cmds,
        run_cmds,
        simulate_cmds,
        sync_cmds,
        team_cmds,
        traces_cmds,
        worker_cmds,
        workspace_cmds,
    )

    for module in (
        workspace_cmds,
        prompt_cmds,
        dataset_cmds,
        run_cmds,
        ratings_cmds,
        eval_cmds,
        import_cmds,
        report_cmds,
        simulate_cmds,
        bundle_cmds,
        collect_cmds,
        traces_cmds,
        online_cmds,
        monitor_cmds,
        guardrails_cmds,
        robustness_cmds,
        export_cmds,
        sync_cmds,
        worker_cmds,
        team_cmds,
    ):
        module.register(app)


_register()


def main() -> None:
    """Entry point of the console script: bad input, a database that cannot be used, a full
    disk or a read-only workspace exit 1 with one line on stderr."""
    configure_offline_defaults()
    try:
        app()
    except PromptyardError as exc:
        typer.echo(f"error: {' '.join(str(exc).splitlines())}", err=True)
        raise SystemExit(1) from None
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        # A disk failure no command expected (full, read-only, denied): one line, no traceback.
        message = str(disk_error(exc, "the command", unchanged=False))
        typer.echo(f"error: {' '.join(message.splitlines())}", err=True)
        raise SystemExit(1) from None
