"""Shared helpers of the CLI: one-line errors on stderr, JSON on stdout."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer

from promptyard.workspace import Workspace, current_workspace


def fail(message: str, code: int = 1) -> NoReturn:
    """Print `message` as one line on stderr and exit with `code`."""
    typer.echo(f"error: {' '.join(message.splitlines())}", err=True)
    raise typer.Exit(code)


def emit_json(value: Any) -> None:
    """Print `value` as JSON on stdout (dates and paths as strings)."""
    typer.echo(json.dumps(value, indent=2, default=str, ensure_ascii=False))


def workspace() -> Workspace:
    return current_workspace()


def split_ref(spec: str) -> tuple[str, str | None]:
    """`NAME@REF` -> (NAME, REF); `NAME` -> (NAME, None)."""
    name, sep, ref = spec.partition("@")
    return name, (ref if sep else None)


def is_tty() -> bool:
    return sys.stderr.isatty()
