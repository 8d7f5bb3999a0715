"""`scheme_version` without a git call per rating: the answer is kept per process until
the repository's HEAD commit or ratings.yaml itself changes.

A rating stores the commit of ratings.yaml it was given under; looking that up runs
`git log` (tens of milliseconds), which a keyboard rater would pay on every key.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from promptyard.versioning.git_files import git_dir_of, head_commit

_memo: dict[str, tuple[tuple[object, ...], str | None]] = {}
_lock = threading.Lock()


def remembered(ratings_file: Path, lookup: Callable[[], str | None]) -> str | None:
    """`lookup()`, or its last answer while HEAD and `ratings_file` are unchanged."""
    try:
        git_dir = git_dir_of(ratings_file.parent)
        head = head_commit(git_dir) if git_dir is not None else None
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
