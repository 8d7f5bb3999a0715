"""Git versioning of workspace files (prompts, datasets, suites, rating schemes).

A version of a file is a commit that changed it, numbered v1..vN along the file's
history. A save is one commit of that one file: other staged or unstaged changes in the
repository are never swept into it. Labels (`production`, ...) live in the git-tracked,
append-only `labels.jsonl`: one line per move, with who, when, from and to.

The store is built in layers, one module each: `repo` (paths, author, lock, one-file
commits), `history` (the read side), `writes` (save, delete, restore, labels).
"""

from __future__ import annotations

from promptyard.versioning.writes import Writes


class Store(Writes):
    """Versioned files of one workspace, in the git repository that holds it.

    `Store(workspace)` reads with `history`, `resolve`, `read`, `read_version`, `diff`,
    `labels`, `label_moves`; writes with `save`, `delete`, `restore`, `set_label`.
    """
