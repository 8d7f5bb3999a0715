"""`promptyard dataset ...`: import, list, show, history, diff, check, label, restore."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from promptyard.cli._common import emit_json, fail, split_ref
from promptyard.workspace import current_workspace

if TYPE_CHECKING:
    from promptyard.datasets import DatasetVersion

dataset_app = typer.Typer(
    help="Versioned test datasets (datasets/NAME.jsonl).", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add the `dataset` commands to the `promptyard` app."""
    app.add_typer(dataset_app, name="dataset")


def _describe(version: DatasetVersion) -> str:
    change = f"; {version.change.summary()}" if version.change is not None else ""
    return f"{version.name} {version.ref} ({version.short_sha}, {version.rows} rows{change})"


def _split_list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


@dataset_app.command("import")
def import_cmd(
    file: str = typer.Argument(..., metavar="FILE", help="CSV, JSONL or JSON file; - reads stdin"),
    name: str | None = typer.Option(None, "--name", "-n", help="Dataset name (default: file name)"),
    message: str | None = typer.Option(None, "-m", "--message", help="What this version is"),
    id_column: str | None = typer.Option(None, "--id-column", help="Column holding row ids"),
    columns: str | None = typer.Option(None, "--columns", help="Columns to keep, comma-separated"),
    reference: str | None = typer.Option(
        None, "--reference", help="Column with the expected output"
    ),
    fmt: str | None = typer.Option(None, "--format", help="csv, jsonl or json (default: sniffed)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Import a file as a new version of a dataset (ids kept for unchanged rows)."""
    from promptyard import datasets as ds

    if fmt is not None and fmt not in ("csv", "jsonl", "json"):
        fail(f"--format must be csv, jsonl or json, not {fmt!r}")
    data: bytes | Path
    if file == "-":
        data = sys.stdin.buffer.read()
        filename = None
        if name is None:
            fail("--name is needed when reading from stdin")
    else:
        data = Path(file)
        if not data.is_file():
            fail(f"{file}: no such file")
        filename = data.name  # the file is read as it is imported, never whole
    dataset_name = name or Path(file).stem
    version = ds.import_dataset(
        current_workspace(),
        dataset_name,
        data,
        filename,
        columns=_split_list(columns),
        id_column=id_column,
        reference=reference,
        message=message,
        format=fmt,  # type: ignore[arg-type]
    )
    if as_json:
        emit_json(version.to_dict())
        return
    typer.echo(f"Imported {filename or 'stdin'} as {_describe(version)}")


@dataset_app.command("list")
def list_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """List the datasets of the workspace."""
    from promptyard import datasets as ds

    infos = ds.list_datasets(current_workspace())
    if as_json:
        emit_json([info.to_dict() for info in infos])
        return
    if not infos:
        typer.echo("No datasets yet. Import one with `promptyard dataset import FILE --name NAME`.")
        return
    width = max(len(info.name) for info in infos)
    for info in infos:
        version = info.version.ref if info.version else "unsaved"
        labels = " ".join(f"[{label}]" for label in info.version.labels) if info.version else ""
        columns = ", ".join(c for c in info.columns if c != "id")
        typer.echo(f"{info.name:<{width}}  {version:>4}  {info.rows:>7} rows  {columns}  {labels}")


@dataset_app.command("show")
def show_cmd(
    spec: str = typer.Argument(..., metavar="NAME[@REF]"),
    limit: int = typer.Option(20, "--limit", "-l", help="Rows to print (0: all)"),
    offset: int = typer.Option(0, "--offset", help="Rows to skip first"),
    slice_spec: str | None = typer.Option(
        None, "--slice", help="all, head:N, random:N[:SEED] or filter:EXPRESSION"
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Print the rows of a dataset (at a version, sha prefix or label)."""
    from promptyard import datasets as ds
    from promptyard.datasets import SliceSpec

    name, ref = split_ref(spec)
    dataset = ds.load_dataset(current_workspace(), name, ref)
    rows = ds.select_rows(dataset, SliceSpec.parse(slice_spec)) if slice_spec else dataset.rows
    shown = rows[offset : offset + limit] if limit > 0 else rows[offset:]
    version = dataset.version
    if as_json:
        emit_json(
            {
                "name": name,
                "version": version.to_dict() if version else None,
                "columns": dataset.columns,
                "reference": dataset.reference,
                "total_rows": len(dataset),
                "matching_rows": len(rows),
                "rows": shown,
            }
        )
        return
    where = f"{version.ref} ({version.short_sha})" if version else "unsaved"
    typer.echo(f"{name} {where}: {len(dataset)} rows; columns: {', '.join(dataset.columns)}")
    if dataset.reference:
        typer.echo(f"reference column: {dataset.reference}")
    for row in shown:
        typer.echo(json.dumps(row, ensure_ascii=False))
    rest = len(rows) - offset - len(shown)
    if rest > 0:
        typer.echo(f"... {rest} more rows (use --limit 0 for all, or --offset)")


@dataset_app.command("history")
def history_cmd(
    name: str = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Every version of a dataset, newest first, with the rows added, removed and changed."""
    from promptyard import datasets as ds

    versions = ds.dataset_history(current_workspace(), name)
    if as_json:
        emit_json([v.to_dict() for v in versions])
        return
    for v in reversed(versions):
        when = v.date.strftime("%Y-%m-%d %H:%M") if v.date else ""
        labels = " ".join(f"[{label}]" for label in v.labels)
        if v.deleted:
            change = "deleted"
        elif v.change is None:
            change = f"{v.rows} rows"
        else:
            change = f"{v.rows} rows, {v.change.summary()}"
        typer.echo(
            f"{v.ref:>4}  {v.short_sha}  {when}  {v.author}  {v.message}  ({change}) {labels}"
        )


@dataset_app.command("diff")
def diff_cmd(
    name: str = typer.Argument(...),
    ref_a: str = typer.Argument(..., metavar="FROM"),
    ref_b: str = typer.Argument("latest", metavar="TO"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The rows added, removed and changed between two versions."""
    from promptyard import datasets as ds

    change = ds.compare_versions(current_workspace(), name, ref_a, ref_b)
    if as_json:
        emit_json(change.to_dict())
        return
    typer.echo(f"{name} {ref_a} -> {ref_b}: {change.summary()}")
    for label, ids in (
        ("added", change.added),
        ("removed", change.removed),
        ("changed", change.changed),
    ):
        if ids:
            shown = ", ".join(ids[:20]) + (f", ... ({len(ids) - 20} more)" if len(ids) > 20 else "")
            typer.echo(f"  {label}: {shown}")


@dataset_app.command("check")
def check_cmd(
    spec: str = typer.Argument(..., metavar="NAME[@REF]"),
    prompt: str = typer.Option(..., "--prompt", "-p", metavar="PROMPT[@REF]"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Which variables of a prompt the dataset provides; exits 1 when any is missing."""
    from promptyard import datasets as ds
    from promptyard.prompts import get_prompt

    ws = current_workspace()
    name, ref = split_ref(spec)
    prompt_name, prompt_ref = split_ref(prompt)
    dataset = ds.load_dataset(ws, name, ref)
    template = get_prompt(prompt_name, prompt_ref, workspace=ws)
    fit = ds.check_fit(dataset, template)
    if as_json:
        emit_json({"dataset": name, "prompt": prompt_name, **fit.to_dict()})
    else:
        typer.echo(f"provided: {', '.join(fit.provided) or '-'}")
        typer.echo(f"missing:  {', '.join(fit.missing) or '-'}")
        typer.echo(f"unused columns: {', '.join(fit.extra) or '-'}")
        typer.echo(f"reference: {fit.reference or '-'}")
    if fit.missing:
        if not as_json:
            typer.echo(
                f"error: dataset {name!r} lacks {', '.join(fit.missing)} for prompt {prompt_name!r}",
                err=True,
            )
        raise typer.Exit(1)


@dataset_app.command("label")
def label_cmd(
    name: str = typer.Argument(...),
    ref: str = typer.Argument(..., metavar="REF"),
    label: str = typer.Argument(...),
) -> None:
    """Point a label (e.g. golden) at a version of a dataset."""
    from promptyard import datasets as ds

    move = ds.set_dataset_label(current_workspace(), name, ref, label)
    typer.echo(f"{label} -> {name} {move.to_sha[:8]}")


@dataset_app.command("restore")
def restore_cmd(
    name: str = typer.Argument(...),
    ref: str = typer.Argument(..., metavar="REF"),
    message: str | None = typer.Option(None, "-m", "--message"),
) -> None:
    """Make an old version the current one again, as a new version."""
    from promptyard import datasets as ds

    version = ds.restore_dataset(current_workspace(), name, ref, message)
    typer.echo(f"Restored {ref}: {_describe(version)}")


@dataset_app.command("reference")
def reference_cmd(
    name: str = typer.Argument(...),
    column: str | None = typer.Argument(None, help="The expected-output column"),
    clear: bool = typer.Option(False, "--clear", help="No reference column"),
) -> None:
    """Show or set the reference (expected output) column of a dataset."""
    from promptyard import datasets as ds

    ws = current_workspace()
    if column is None and not clear:
        typer.echo(ds.load_dataset(ws, name).reference or "-")
        return
    if column is not None and clear:
        fail("give a COLUMN or --clear, not both")
    chosen = ds.set_reference(ws, name, None if clear else column)
    typer.echo(f"{name}: reference column {chosen or '-'}")


@dataset_app.command("delete")
def delete_cmd(
    name: str = typer.Argument(...),
    yes: bool = typer.Option(False, "--yes", help="Do not ask"),
) -> None:
    """Delete a dataset (its history stays in git)."""
    from promptyard import datasets as ds

    if not yes and not typer.confirm(f"Delete dataset {name}?"):
        raise typer.Exit(1)
    version = ds.delete_dataset(current_workspace(), name)
    typer.echo(f"Deleted {name} ({version.ref}, {version.short_sha})")
