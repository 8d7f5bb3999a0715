"""The repository without gitpython: where its git directory is, what HEAD points at (read
from the files git keeps), and `git` run as a plain process.

The read side of the store (a file's history, a version's text, whether a file has unsaved
edits) needs nothing more, so a run's start reads its prompt's and dataset's versions
without waiting for gitpython's import; saving still goes through gitpython.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from promptyard.errors import PromptyardError

# As gitpython runs git: messages in English, whatever the user's locale (git_reason reads them).
_ENV_OVERRIDES = {"LANGUAGE": "C", "LC_ALL": "C"}


class GitFailed(PromptyardError):
    """A git command exited non-zero; the message ends with the reason it wrote to stderr."""

    def __init__(self, args: tuple[str, ...], status: int, stderr: str) -> None:
        super().__init__(f"git {args[0] if args else ''} failed (exit {status}): {reason(stderr)}")


def reason(stderr: str) -> str:
    """The last line git wrote to stderr: the reason a command failed, for people."""
    text = stderr.strip().splitlines()
    lines = [line.strip().removeprefix("stderr: ").strip("'") for line in text if line.strip()]
    return lines[-1] if lines else "unknown error"


def find_repository(start: Path) -> tuple[Path, Path] | None:
    """(working tree, git directory) of the repository holding `start`, as git looks for it:
    the nearest folder with a `.git` directory, or a `.git` file naming one (a worktree or
    submodule: "gitdir: PATH"), that is a repository; None when there is none, or `start`
    does not exist."""
    if not start.exists():
        return None
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / ".git"
        if candidate.is_file():
            text = candidate.read_text(encoding="utf-8", errors="replace").strip()
            if text.startswith("gitdir:"):
                target = Path(text[len("gitdir:") :].strip())
                candidate = target if target.is_absolute() else (folder / target).resolve()
        if candidate.is_dir() and _is_git_dir(candidate):
            return folder, candidate
    return None


def _is_git_dir(path: Path) -> bool:
    """Whether `path` holds a repository as git tells one: HEAD, and objects and refs (in
    the common directory, for a worktree). A broken one is passed over, as git does."""
    base = common_dir(path)
    return (path / "HEAD").is_file() and (base / "objects").is_dir() and (base / "refs").is_dir()


def git_dir_of(start: Path) -> Path | None:
    """The git directory of the repository holding `start` (None: not in one)."""
    found = find_repository(start)
    return found[1] if found else None


def common_dir(git_dir: Path) -> Path:
    """Where a worktree's shared objects and refs live (its own git directory otherwise)."""
    common = git_dir / "commondir"
    if common.is_file():
        return (git_dir / common.read_text(encoding="utf-8").strip()).resolve()
    return git_dir


def head_commit(git_dir: Path) -> str | None:
    """The commit HEAD points at, read from the files git keeps it in (None: unsure)."""
    head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
    if not head.startswith("ref:"):
        return head
    ref = head[len("ref:") :].strip()
    for base in (git_dir, common_dir(git_dir)):
        loose = base / ref
        if loose.is_file():
            return loose.read_text(encoding="utf-8").strip()
    packed = common_dir(git_dir) / "packed-refs"
    if packed.is_file():
        for line in packed.read_text(encoding="utf-8").splitlines():
            if line.endswith(" " + ref):
                return line.split(" ", 1)[0]
    return None


def _env() -> dict[str, str]:
    return {**os.environ, **_ENV_OVERRIDES}


def run_git(top: Path, *args: str) -> bytes:
    """What `git ARGS` prints in `top`; GitFailed when it exits non-zero."""
    done = subprocess.run(
        ["git", *args], cwd=top, env=_env(), stdin=subprocess.DEVNULL, capture_output=True
    )
    if done.returncode != 0:
        raise GitFailed(args, done.returncode, done.stderr.decode("utf-8", "replace"))
    return done.stdout


def open_git(top: Path, *args: str) -> subprocess.Popen[bytes]:
    """`git ARGS` in `top`, its output to read as it comes (the caller waits for it)."""
    return subprocess.Popen(
        ["git", *args],
        cwd=top,
        env=_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
