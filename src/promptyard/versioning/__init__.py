"""Git through gitpython: save = commit, history, diffs, restore, labels, conflicts."""

from promptyard.versioning.diffs import DiffRow, diff_stats, side_by_side
from promptyard.versioning.file_save import save_file
from promptyard.versioning.history import Version
from promptyard.versioning.init import (
    InitResult,
    examples_root,
    init_workspace,
    init_workspace_report,
)
from promptyard.versioning.labels import LabelMove
from promptyard.versioning.repo import DEFAULT_AUTHOR, RepositoryStateError, decode_text
from promptyard.versioning.store import Store
from promptyard.versioning.writes import ConflictError

__all__ = [
    "ConflictError",
    "DEFAULT_AUTHOR",
    "DiffRow",
    "InitResult",
    "LabelMove",
    "RepositoryStateError",
    "Store",
    "Version",
    "decode_text",
    "diff_stats",
    "examples_root",
    "init_workspace",
    "init_workspace_report",
    "save_file",
    "side_by_side",
]
