"""A workspace settings file in force: the working tree's when it parses, else the newest
committed version that does. monitors.yaml and guardrails.yaml are read this way, so a
broken edit never turns monitors or guardrails off: the last good version stays in force
and the mistake is reported."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from promptyard.errors import PromptyardError
from promptyard.versioning.store import Store
from promptyard.workspace import Workspace

T = TypeVar("T")


@dataclass(frozen=True)
class InForce(Generic[T]):
    """What `in_force` found: `value` None when no file exists or no version parses."""

    value: T | None
    source: str  # "working tree", the tag of the committed version read, or "none"
    error: str | None = None  # the working tree's mistake, when it did not parse


def in_force(
    ws: Workspace, path: str, parse: Callable[[str], T], errors: tuple[type[Exception], ...]
) -> InForce[T]:
    """`parse` of the file at `path` (relative to the workspace) as it is in force.

    The working tree's text when it parses; else the newest committed version that does,
    never one from before the file was last deleted; `errors` are the exceptions by which
    `parse` refuses a text.
    """
    target = ws.root / path
    if not target.is_file():
        return InForce(None, "none")
    refused: tuple[type[Exception], ...] = (*errors, UnicodeDecodeError)
    try:
        return InForce(parse(target.read_text(encoding="utf-8")), "working tree")
    except refused as exc:
        error = str(exc)
    store = Store(ws)
    try:
        versions = store.history(path)
    except PromptyardError:
        versions = []
    for version in reversed(versions):
        if version.deleted:
            break
        try:
            return InForce(parse(store.read_version(version)), version.tag, error)
        except refused:
            continue
    return InForce(None, "none", error)
