"""What each role may do, and the one check every refusing library call makes.

With no identity in force (sign-in off, the CLI, a worker) everything is allowed, as for a
local single user. With one, the member's role in team.yaml decides; a stranger may do
nothing, not even read.
"""

from __future__ import annotations

import time
from enum import StrEnum

from promptyard.errors import PromptyardError
from promptyard.team.identity import Identity, current_identity
from promptyard.team.roles import TEAM_FILE, Role, load_team
from promptyard.workspace import Workspace


class Permission(StrEnum):
    """An action a role may be given."""

    READ = "read"  # see prompts, datasets, runs, results, traces
    EDIT_PROMPTS = "edit prompts"
    EDIT_DATASETS = "edit datasets"
    EDIT_SUITES = "edit suites"  # evals/ and evaluators/
    MOVE_LABELS = "move labels"
    START_RUNS = "start runs"
    MANAGE_SESSIONS = "manage labeling sessions"  # open them, assign raters, see progress
    RATE_ANY = "rate any cell"  # rate outside an assignment (Compare, any session)
    RATE_ASSIGNED = "rate assigned sessions"
    MANAGE_MODELS = "manage models"
    MANAGE_SCHEMES = "manage rating schemes"
    MANAGE_SETTINGS = "manage settings"
    MANAGE_TEAM = "manage the team"


_EDITOR = {
    Permission.READ,
    Permission.EDIT_PROMPTS,
    Permission.EDIT_DATASETS,
    Permission.EDIT_SUITES,
    Permission.MOVE_LABELS,
    Permission.START_RUNS,
    Permission.MANAGE_SESSIONS,
    Permission.RATE_ANY,
    Permission.RATE_ASSIGNED,
}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.EDITOR: frozenset(_EDITOR),
    Role.RATER: frozenset({Permission.RATE_ASSIGNED}),
    Role.VIEWER: frozenset({Permission.READ}),
}


class PermissionDeniedError(PromptyardError):
    """The identity in force may not do this; the message names who, their role and what."""


def role_of(ws: Workspace, identity: Identity | None = None) -> Role | None:
    """The role of `identity` (default: the one in force) in team.yaml; None for strangers
    and when no identity is in force (see `acting_freely`)."""
    who = identity or current_identity()
    if who is None:
        return None
    team = load_team(ws)
    return team.role_of(who.email) or team.role_of(who.subject)


def acting_freely() -> bool:
    """True when no identity is in force: the local single user, who may do everything."""
    return current_identity() is None


def allowed(ws: Workspace, permission: Permission) -> bool:
    """Whether the identity in force may do `permission` (always, when none is)."""
    who = current_identity()
    if who is None:
        return True
    role = role_of(ws, who)
    return not who.expired and role is not None and permission in ROLE_PERMISSIONS[role]


def require(ws: Workspace, permission: Permission, what: str) -> None:
    """Raise PermissionDeniedError unless the identity in force may do `permission`.

    `what` names the action for the message ("save prompts/a.prompty").
    """
    who = current_identity()
    if who is None or allowed(ws, permission):
        return
    if who.expired:
        ended = time.strftime("%H:%M UTC", time.gmtime(who.expires_at))
        raise PermissionDeniedError(
            f"the sign-in of {who.key} ended at {ended}; nothing was saved. Sign in again"
            " (what you typed stays on this page until you leave it)"
        )
    role = role_of(ws, who)
    if role is None:
        raise PermissionDeniedError(
            f"{who.key} is not a member of this workspace's team ({TEAM_FILE}); "
            f"an admin must add them before they can {what}"
        )
    raise PermissionDeniedError(
        f"{who.key} is a {role} and may not {what} (it needs a role that may {permission})"
    )


def recorded_name(given: str | None) -> str | None:
    """The name an action records: the identity in force, never a typed name; else `given`."""
    who = current_identity()
    return who.key if who is not None else given


def permission_for_path(path: str) -> Permission:
    """The permission a commit of workspace file `path` needs."""
    top = path.split("/", 1)[0]
    if top == "prompts":
        return Permission.EDIT_PROMPTS
    if top == "datasets":
        return Permission.EDIT_DATASETS
    if top in ("evals", "evaluators"):
        return Permission.EDIT_SUITES
    if path == "labels.jsonl":
        return Permission.MOVE_LABELS
    if path == "models.yaml":
        return Permission.MANAGE_MODELS
    if path == "ratings.yaml":
        return Permission.MANAGE_SCHEMES
    if path == TEAM_FILE:
        return Permission.MANAGE_TEAM
    return Permission.MANAGE_SETTINGS
