"""`promptyard bundle`: freeze prompt versions into one JSON file an application loads with no git."""

from __future__ import annotations

from pathlib import Path

import typer

from promptyard.cli._common import emit_json


def register(app: typer.Typer) -> None:
    """Add `promptyard bundle` to the `promptyard` app."""

    @app.command("bundle")
    def bundle(
        out: Path = typer.Option(..., "--out", "-o", help="The bundle file to write."),
        label: str | None = typer.Option(
            None, "--label", "-l", help="Each prompt's version under this label (else its latest)."
        ),
        prompt: list[str] = typer.Option(
            [], "--prompt", "-p", help="Bundle only this prompt (repeat for more; default: all)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
    ) -> None:
        """Write prompt versions, and the models.yaml entries they use (never keys), to one
        versioned JSON file. Load it with get_prompt(NAME, label=..., bundle=FILE) or
        PROMPTYARD_BUNDLE=FILE: no git and no workspace needed."""
        from promptyard.models import write_bundle

        report = write_bundle(out, label=label, prompts=prompt or None)
        if as_json:
            emit_json(report.to_dict())
            return
        listed = ", ".join(f"{n} {tag} ({sha[:8]})" for n, tag, sha in report.prompts)
        models = f"; models: {', '.join(report.models)}" if report.models else ""
        typer.echo(f"wrote {report.path}: {len(report.prompts)} prompt(s): {listed}{models}")
        for name, reason in report.skipped:
            typer.echo(f"skipped {name}: {reason}", err=True)
