"""Git through gitpython: save = commit, history, diffs, restore, labels, conflicts, sync.

The names are imported from their modules on first use (PEP 562): reading a prompt's
version for a run loads the store's read and write sides, not diffs, merges or sync.
"""

import pkgutil
from typing import TYPE_CHECKING

from promptyard.lazy_names import lazy_face

_HOMES = {
    **dict.fromkeys(["InForce", "in_force"], "promptyard.in_force"),
    **dict.fromkeys(
        ["DiffRow", "diff_stats", "side_by_side", "with_context"], "promptyard.versioning.diffs"
    ),
    **dict.fromkeys(["save_file"], "promptyard.versioning.file_save"),
    **dict.fromkeys(["Version"], "promptyard.versioning.history"),
    **dict.fromkeys(
        ["InitResult", "examples_root", "init_workspace", "init_workspace_report"],
        "promptyard.versioning.init",
    ),
    **dict.fromkeys(["LabelMove"], "promptyard.versioning.labels"),
    **dict.fromkeys(["ConflictedFile", "Side"], "promptyard.versioning.merging"),
    **dict.fromkeys(
        [
            "RemoteStatus",
            "SyncError",
            "SyncResult",
            "SyncStatus",
            "ensure_union_merge",
            "pending_conflicts",
            "pull",
            "push",
            "remote_status",
            "resolve",
            "sync",
        ],
        "promptyard.versioning.remote",
    ),
    **dict.fromkeys(
        ["DEFAULT_AUTHOR", "RepositoryStateError", "decode_text"], "promptyard.versioning.repo"
    ),
    **dict.fromkeys(["Store"], "promptyard.versioning.store"),
    **dict.fromkeys(["ConflictError"], "promptyard.versioning.writes"),
}

if TYPE_CHECKING:
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

# Submodules by attribute too (`versioning.remote`), as when this face imported them all.
_SUBMODULES = [m.name for m in pkgutil.iter_modules(__path__)]

__getattr__, __dir__ = lazy_face(__name__, _HOMES, __all__, _SUBMODULES)
