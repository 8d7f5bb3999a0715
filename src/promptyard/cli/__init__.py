"""The `promptyard` command. Each area registers its commands from its own module.

A command line names one top-level command, so `main` loads and builds only the module that
registers it (`COMMANDS`): typer builds every command it is given, which for all of them
costs more than the rest of a small run's start. `promptyard`, `--help`, or a name no module
registers builds them all, and so does `app` (the whole command, as tests invoke it).
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from promptyard._env import configure_offline_defaults
from promptyard.disk_errors import disk_error
from promptyard.errors import PromptyardError

if TYPE_CHECKING:
    import typer

# Each top-level command (or group), and the module under promptyard.cli registering it.
COMMANDS = {
    "init": "workspace_cmds",
    "ui": "workspace_cmds",
    "prompt": "prompt_cmds",
    "dataset": "dataset_cmds",
    "run": "run_cmds",
    "results": "run_cmds",
    "runs": "run_cmds",
    "ratings": "ratings_cmds",
    "eval": "eval_cmds",
    "score": "eval_cmds",
    "calibrate": "eval_cmds",
    "suites": "eval_cmds",
    "evaluators": "eval_cmds",
    "import": "import_cmds",
    "report": "report_cmds",
    "simulate": "simulate_cmds",
    "bundle": "bundle_cmds",
    "collect": "collect_cmds",
    "traces": "traces_cmds",
    "online-eval": "online_cmds",
    "monitor": "monitor_cmds",
    "guardrails": "guardrails_cmds",
    "robustness": "robustness_cmds",
    "export": "export_cmds",
    "sync": "sync_cmds",
    "worker": "worker_cmds",
    "team": "team_cmds",
}
MODULES = tuple(dict.fromkeys(COMMANDS.values()))  # in the order they register


def build_app(modules: tuple[str, ...] = MODULES) -> typer.Typer:
    """The `promptyard` command with the commands of `modules` (all by default)."""
    import typer

    app = typer.Typer(
        name="promptyard",
        help="Promptyard: git-versioned prompts, runs across models, ratings, judges and charts.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    # A group even when the modules register one command (typer would make a lone command
    # the whole program, and `promptyard sync` would read `sync` as its argument).
    app.callback()(_no_options)
    for name in modules:
        importlib.import_module(f"promptyard.cli.{name}").register(app)
    return app


def _no_options() -> None:
    """`promptyard` itself takes no options but --help."""


def _app_for(args: list[str]) -> typer.Typer:
    """The command `args` need: only the module of the command they name, if one does."""
    named = args[0] if args and not args[0].startswith("-") else None
    module = COMMANDS.get(named or "")
    return build_app((module,)) if module else build_app()


def __getattr__(name: str) -> Any:
    if name == "app":  # the whole command, built once on first use
        globals()["app"] = built = build_app()
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Entry point of the console script: bad input, a database that cannot be used, a full
    disk or a read-only workspace exit 1 with one line on stderr."""
    import typer

    configure_offline_defaults()
    try:
        _app_for(sys.argv[1:])()
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
