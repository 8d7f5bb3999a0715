"""`scheme_version` without a git call per rating: the answer is kept per process until
the repository's HEAD commit or ratings.yaml itself changes.

A rating stores the commit of ratings.yaml it was given under; looking that up runs
`git log` (tens of milliseconds), which a keyboard rater would pay on every key.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

_memo: dict[str, tuple[tuple[object, ...], str | None]] = {}
_lock = threading.Lock()


def _git_dir(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / ".git"
        if candidate.is_dir():
            return candidate
        if candidate.is_file():  # a worktree or submodule: "gitdir: PATH"
            text = candidate.read_text(encoding="utf-8").strip()
            if text.startswith("gitdir:"):
                target = Path(text[len("gitdir:") :].strip())
                return target if target.is_absolute() else (folder / target).resolve()
    return None


def _head(git_dir: Path) -> str | None:
    """The commit HEAD points at, read from the files git keeps it in (None: unsure)."""
    head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
    if not head.startswith("ref:"):
        return head
    ref = head[len("ref:") :].strip()
    for base in (git_dir, _common_dir(git_dir)):
        loose = base / ref
        if loose.is_file():
            return loose.read_text(encoding="utf-8").strip()
    packed = _common_dir(git_dir) / "packed-refs"
    if packed.is_file():
        for line in packed.read_text(encoding="utf-8").splitlines():
            if line.endswith(" " + ref):
                return line.split(" ", 1)[0]
    return None


def _common_dir(git_dir: Path) -> Path:
    common = git_dir / "commondir"
    if common.is_file():
        return (git_dir / common.read_text(encoding="utf-8").strip()).resolve()
    return git_dir


def remembered(ratings_file: Path, lookup: Callable[[], str | None]) -> str | None:
    """`lookup()`, or its last answer while HEAD and `ratings_file` are unchanged."""
    try:
        git_dir = _git_dir(ratings_file.parent)
        head = _head(git_dir) if git_dir is not None else None
        stat = ratings_file.stat() if ratings_file.exists() else None
    except OSError:
        return lookup()
    if head is None:
        return lookup()
    key = (head, stat.st_mtime_ns if stat else None, stat.st_size if stat else None)
    name = str(ratings_file)
    with _lock:
        found = _memo.get(name)
    if found is not None and found[0] == key:
        return found[1]
    answer = lookup()
    with _lock:
        _memo[name] = (key, answer)
    return answer
