"""`promptyard sync`: pull from and push to the workspace's git remote."""

from __future__ import annotations

import difflib
from dataclasses import asdict
from typing import TYPE_CHECKING

import typer

from promptyard.cli._common import emit_json, fail, workspace
from promptyard.errors import PromptyardError

if TYPE_CHECKING:
    from promptyard.versioning import (
        ConflictedFile,
        Side,
        SyncResult,
    )

CONFLICT_EXIT = 2


def _both_sides(conflict: ConflictedFile) -> str:
    ours = (conflict.ours or "").splitlines(keepends=True)
    theirs = (conflict.theirs or "").splitlines(keepends=True)
    lines = difflib.unified_diff(
        ours, theirs, fromfile=f"{conflict.path} (here)", tofile=f"{conflict.path} (remote)"
    )
    return "".join(lines)


def _report(result: SyncResult, as_json: bool) -> None:
    from promptyard.versioning import SyncStatus

    if as_json:
        emit_json(
            {
                "status": str(result.status),
                "pulled": result.pulled,
                "pushed": result.pushed,
                "conflicts": [asdict(c) for c in result.conflicts],
                "message": result.message,
            }
        )
    else:
        typer.echo(result.message)
        for conflict in result.conflicts:
            typer.echo(_both_sides(conflict))
        if result.conflicts:
            typer.echo(
                "resolve with `promptyard sync --ours PATH` or `--theirs PATH` for each file"
            )
    if result.status is SyncStatus.CONFLICT:
        raise typer.Exit(CONFLICT_EXIT)


def register(app: typer.Typer) -> None:
    @app.command("sync")
    def sync_command(
        pull_only: bool = typer.Option(False, "--pull", help="Only fetch and merge"),
        push_only: bool = typer.Option(False, "--push", help="Only push"),
        status_only: bool = typer.Option(
            False, "--status", help="Fetch and show the branch, remote and ahead/behind"
        ),
        ours: list[str] = typer.Option([], "--ours", help="Resolve PATH with this side"),
        theirs: list[str] = typer.Option([], "--theirs", help="Resolve PATH with the remote's"),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON"),
    ) -> None:
        """Pull from the workspace's git remote, then push; a conflict changes nothing,
        shows both sides and exits 2 until each file gets --ours or --theirs."""
        from promptyard.versioning import (
            Side,
            SyncResult,
            SyncStatus,
            pull,
            push,
            remote_status,
            resolve,
            sync,
        )

        if pull_only and push_only:
            fail("--pull and --push exclude each other; give one, or neither to do both")
        ws = workspace()
        try:
            if status_only:
                status = remote_status(ws, fetch=True)
                if as_json:
                    emit_json(asdict(status))
                    return
                if status.remote is None:
                    typer.echo(f"branch {status.branch}: no remote")
                    return
                where = status.upstream or f"{status.remote} (branch not pushed yet)"
                typer.echo(
                    f"branch {status.branch} -> {where} ({status.url}):"
                    f" {status.ahead if status.ahead is not None else '—'} ahead,"
                    f" {status.behind if status.behind is not None else '—'} behind"
                )
                return
            if ours or theirs:
                overlap = set(ours) & set(theirs)
                if overlap:
                    fail(f"{', '.join(sorted(overlap))} given both --ours and --theirs")
                first = pull(ws)
                if first.status is not SyncStatus.CONFLICT or first.theirs is None:
                    fail("there is no conflicted pull to resolve; run `promptyard sync`")
                choices: dict[str, Side | str] = {p: Side.OURS for p in ours}
                choices.update({p: Side.THEIRS for p in theirs})
                unknown = sorted(set(choices) - {c.path for c in first.conflicts})
                if unknown:
                    fail(f"{', '.join(unknown)} is not in conflict; conflicted: "
                         + ", ".join(c.path for c in first.conflicts))  # fmt: skip
                result = resolve(ws, first.theirs, choices)
                if not pull_only:
                    pushed = push(ws)
                    result = SyncResult(SyncStatus.SYNCED, result.pulled, pushed.pushed)
            elif pull_only:
                result = pull(ws)
            elif push_only:
                result = push(ws)
            else:
                result = sync(ws)
        except PromptyardError as exc:
            fail(str(exc))
        _report(result, as_json)
