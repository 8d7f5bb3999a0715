"""The workspace the app serves, resolved once per script run."""

from __future__ import annotations

from promptyard.workspace import Workspace, current_workspace


def workspace() -> Workspace:
    """The workspace at $PROMPTYARD_HOME (set by `promptyard ui`), else the cwd."""
    return current_workspace()
