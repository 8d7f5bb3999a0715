"""Git through gitpython: save = commit, history, diffs, restore, labels, conflicts, sync."""

from promptyard.in_force import InForce, in_force
from promptyard.versioning.diffs import DiffRow, diff_stats, side_by_side, with_context
from promptyard.versioning.file_save import save_file
from promptyard.versioning.history import Version
from promptyard.versioning.init import (
    InitResult,
    examples_root,
    init_workspace,
    init_workspace_report,
)
from promptyard.versioning.labels import LabelMove
from promptyard.versioning.merging import ConflictedFile, Side
from promptyard.versioning.remote import (
    RemoteStatus,
    SyncError,
    SyncResult,
    SyncStatus,
    ensure_union_merge,
    pending_conflicts,
    pull,
    push,
    remote_status,
    resolve,
    sync,
)
from promptyard.versioning.repo import DEFAULT_AUTHOR, RepositoryStateError, decode_text
from promptyard.versioning.store import Store
from promptyard.versioning.writes import ConflictError

__all__ = [
    "ConflictError",
    "ConflictedFile",
    "DEFAULT_AUTHOR",
    "DiffRow",
    "InForce",
    "InitResult",
    "LabelMove",
    "RemoteStatus",
    "RepositoryStateError",
    "Side",
    "Store",
    "SyncError",
    "SyncResult",
    "SyncStatus",
    "Version",
    "decode_text",
    "diff_stats",
    "ensure_union_merge",
    "examples_root",
    "in_force",
    "init_workspace",
    "init_workspace_report",
    "pending_conflicts",
    "pull",
    "push",
    "remote_status",
    "resolve",
    "save_file",
    "side_by_side",
    "sync",
    "with_context",
]
