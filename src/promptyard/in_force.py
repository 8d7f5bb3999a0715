"""A workspace settings file in force: the working tree's when it parses, else the newest
committed version that does. monitors.yaml, guardrails.yaml and team.yaml are read this
way, so a broken edit never turns monitors, guardrails or roles off: the last good version
stays in force and the mistake is reported.

This sits below `team` (not in `versioning`) because versioning's commits ask team.yaml's
roles who may save: the reading of team.yaml cannot go through versioning without an
import circle. It reads git the way `versioning.History` numbers versions (every commit
that touched the file, oldest v1, renames not followed), so its tags match the store's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from promptyard.workspace import Workspace

T = TypeVar("T")

_RECORD = "\x1e"


@dataclass(frozen=True)
class InForce(Generic[T]):
    """What `in_force` found: `value` None when no file exists or no version parses."""

    value: T | None
    source: str  # "working tree", the tag (vN) of the committed version read, or "none"
    error: str | None = None  # the working tree's mistake, when it did not parse


@dataclass(frozen=True)
class _Commit:
    tag: str
    sha: str
    deleted: bool


def _commits(ws: Workspace, path: str) -> list[_Commit]:
    """The commits that touched `path`, newest first, tagged v1.. from the oldest."""
    import git

    try:
        out = git.Git(str(ws.root)).log(
            f"--format={_RECORD}%H", "--name-status", "--no-renames", "--", path
        )
    except (git.GitCommandError, OSError):
        return []  # not a repository, no commit yet, or git missing: nothing committed
    chunks = [c for c in out.split(_RECORD) if c.strip()]
    found = []
    for number, chunk in zip(range(len(chunks), 0, -1), chunks, strict=True):
        sha, _, rest = chunk.partition("\n")
        deleted = any(line.startswith("D\t") for line in rest.splitlines())
        found.append(_Commit(f"v{number}", sha.strip(), deleted))
    return found


def _committed_text(ws: Workspace, path: str, sha: str) -> str | None:
    import git

    try:
        data: bytes = git.Git(str(ws.root)).show(
            f"{sha}:./{path}", stdout_as_string=False, strip_newline_in_stdout=False
        )
    except (git.GitCommandError, OSError):
        return None
    return data.decode("utf-8")


def in_force(
    ws: Workspace, path: str, parse: Callable[[str], T], errors: tuple[type[Exception], ...]
) -> InForce[T]:
    """`parse` of the file at `path` (relative to the workspace) as it is in force.

    The working tree's text when it parses; else the newest committed version that does,
    never one from before the file was last deleted; `errors` are the exceptions by which
    `parse` refuses a text. A file that is not UTF-8 is refused as `path:1: not UTF-8 text`.
    """
    target = ws.root / path
    if not target.is_file():
        return InForce(None, "none")
    try:
        return InForce(parse(target.read_text(encoding="utf-8")), "working tree")
    except UnicodeDecodeError:
        error = f"{path}:1: not UTF-8 text"
    except errors as exc:
        error = str(exc)
    refused: tuple[type[Exception], ...] = (*errors, UnicodeDecodeError)
    for commit in _commits(ws, path):
        if commit.deleted:
            break
        try:
            text = _committed_text(ws, path, commit.sha)
            if text is None:
                continue
            return InForce(parse(text), commit.tag, error)
        except refused:
            continue
    return InForce(None, "none", error)
