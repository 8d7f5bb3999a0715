"""`promptyard prompt ...`: list, show, save, history, diff, label, render, restore, delete."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from promptyard.cli._common import emit_json, fail, split_ref, workspace

prompt_app = typer.Typer(help="Versioned prompt templates.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(prompt_app, name="prompt")


@prompt_app.command("list")
def list_cmd(
    search: str = typer.Option("", "--search", "-s", help="Filter by name or description"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List the prompts of the workspace."""
    from promptyard import prompts

    found = prompts.list_prompts(search=search)
    if as_json:
        emit_json([p.to_dict() for p in found])
        return
    if not found:
        typer.echo(
            "No prompts yet. Create one with `promptyard prompt save NAME --file FILE -m MSG`."
        )
        return
    width = max(len(p.name) for p in found)
    for p in found:
        latest = p.latest.tag if p.latest else "unsaved"
        labels = " ".join(f"[{k}={v}]" for k, v in sorted(p.labels.items()))
        note = f"  ! {p.error}" if p.error else f"  {p.description}"
        typer.echo(f"{p.name:<{width}}  {latest:>4}  {labels}{note}")


@prompt_app.command("show")
def show_cmd(
    spec: str = typer.Argument(..., metavar="NAME[@REF]"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Print a prompt file (at a version, sha prefix or label)."""
    from promptyard import prompts

    name, ref = split_ref(spec)
    template = prompts.get_prompt(name, ref, workspace=workspace())  # never $PROMPTYARD_BUNDLE
    text = template.source_text
    if as_json:
        version = template.version
        emit_json(
            {
                "name": name,
                "version": version.to_dict() if version else None,
                "description": template.description,
                "model": template.model,
                "parameters": template.parameters,
                "variables": template.variables,
                "inputs": template.inputs,
                "response_schema": template.response_schema,
                "tools": template.tools,
                "labels": {k: v.tag for k, v in prompts.prompt_labels(name).items()},
                "text": text,
            }
        )
        return
    typer.echo(text, nl=not text.endswith("\n"))


@prompt_app.command("save")
def save_cmd(
    name: str = typer.Argument(...),
    file: Path = typer.Option(..., "--file", "-f", help="The prompt file to save"),
    message: str = typer.Option(..., "-m", "--message", help="What changed"),
    base: str | None = typer.Option(None, "--base", help="The version your edit started from"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Save FILE as the next version of prompt NAME (creating it if new)."""
    from promptyard import prompts
    from promptyard.versioning import ConflictError, decode_text

    if not file.is_file():
        fail(f"{file}: no such file")
    text = decode_text(file.read_bytes(), str(file))
    try:
        version = prompts.save_prompt(name, text, message, base=base)
    except ConflictError as exc:
        typer.echo(exc.diff, err=True)
        fail(str(exc))
    if as_json:
        emit_json(version.to_dict())
        return
    typer.echo(f"Saved {name} {version.tag} ({version.short_sha})")


@prompt_app.command("history")
def history_cmd(name: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """List every version of a prompt, oldest first."""
    from promptyard import prompts

    versions = prompts.prompt_history(name)
    if as_json:
        emit_json([v.to_dict() for v in versions])
        return
    for v in versions:
        labels = f" [{', '.join(v.labels)}]" if v.labels else ""
        gone = " (deleted)" if v.deleted else ""
        typer.echo(
            f"{v.tag:>4}  {v.short_sha}  {v.date:%Y-%m-%d %H:%M}  {v.author:<16}  {v.message}{gone}{labels}"
        )


@prompt_app.command("diff")
def diff_cmd(name: str, ref_a: str, ref_b: str) -> None:
    """Show what changed from version REF_A to REF_B."""
    from promptyard import prompts

    diff = prompts.diff_prompt(name, ref_a, ref_b)
    typer.echo(diff or "No changes.", nl=not diff.endswith("\n"))


@prompt_app.command("label")
def label_cmd(
    name: str,
    ref: str,
    label: str,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Point LABEL (e.g. production) at version REF of prompt NAME."""
    from promptyard import prompts

    move = prompts.label_prompt(name, ref, label)
    if as_json:
        emit_json(move.to_dict())
        return
    version = prompts.get_prompt(name, label, workspace=workspace()).version
    typer.echo(f"{label} -> {name} {version.tag if version else ref} ({move.to_sha[:8]})")


@prompt_app.command("labels")
def labels_cmd(name: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """List every move of the prompt's labels, oldest first."""
    from promptyard import prompts

    moves = prompts.prompt_label_moves(name)
    if as_json:
        emit_json([m.to_dict() for m in moves])
        return
    for m in moves:
        start = m.from_sha[:8] if m.from_sha else "(new)"
        typer.echo(f"{m.at:%Y-%m-%d %H:%M}  {m.label:<12} {start} -> {m.to_sha[:8]}  by {m.who}")


@prompt_app.command("render")
def render_cmd(
    spec: str = typer.Argument(..., metavar="NAME[@REF]"),
    var: list[str] = typer.Option([], "--var", help="KEY=VALUE (repeat)"),
    samples: bool = typer.Option(
        False, "--samples", help="Fill unset variables with the sample inputs"
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Render a prompt's chat messages with the given variables."""
    from promptyard import prompts

    name, ref = split_ref(spec)
    values: dict[str, Any] = {}
    for item in var:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"--var {item!r}: expected KEY=VALUE")
        values[key] = value
    template = prompts.get_prompt(name, ref, workspace=workspace())  # never $PROMPTYARD_BUNDLE
    if samples:
        # Samples keep their YAML type: a list sample stays a list (a thread stays turns).
        values = {**template.samples, **values}
    messages = template.render(values)
    if as_json:
        emit_json(messages)
        return
    for m in messages:
        typer.echo(f"{m['role']}:\n{m['content']}\n")


@prompt_app.command("restore")
def restore_cmd(name: str, ref: str, message: str | None = typer.Option(None, "-m")) -> None:
    """Make a new version with the content of version REF."""
    from promptyard import prompts

    version = prompts.restore_prompt(name, ref, message)
    typer.echo(f"Restored {name} to {ref} as {version.tag} ({version.short_sha})")


@prompt_app.command("delete")
def delete_cmd(name: str, message: str | None = typer.Option(None, "-m")) -> None:
    """Delete a prompt in a commit of its own (its history stays)."""
    from promptyard import prompts

    version = prompts.delete_prompt(name, message)
    typer.echo(f"Deleted {name} in {version.tag} ({version.short_sha})")
