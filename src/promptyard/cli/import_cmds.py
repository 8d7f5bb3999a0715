"""`promptyard import promptfoo CONFIG`: a promptfoo project as prompts, a dataset and a suite."""

from __future__ import annotations

from pathlib import Path

import typer

from promptyard.cli._common import emit_json, fail
from promptyard.errors import PromptyardError
from promptyard.workspace import current_workspace

import_app = typer.Typer(help="Import projects from other tools (promptfoo).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `promptyard` app."""
    app.add_typer(import_app, name="import")


@import_app.command("promptfoo")
def import_promptfoo_cmd(
    config: Path = typer.Argument(..., help="The promptfoo config: promptfooconfig.yaml"),
    name: str | None = typer.Option(
        None, "--name", help="Name of the prompts, dataset and suite (default: the config's folder)"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Import a promptfoo config; print what was saved and what could not be carried over."""
    from promptyard.evals.promptfoo_import import import_promptfoo

    if not config.is_file():
        fail(f"{config}: no such file")
    try:
        report = import_promptfoo(current_workspace(), config, name=name)
    except PromptyardError as exc:
        fail(str(exc))
    if as_json:
        emit_json(report.to_dict())
    else:
        typer.echo("\n".join(report.lines()))
