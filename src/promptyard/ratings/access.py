"""Who may rate where: editors and admins anywhere, raters only in the sessions assigned to
them, nobody else (when an identity is in force; without one, everyone everywhere)."""

from __future__ import annotations

from sqlmodel import select

from promptyard.storage import db
from promptyard.storage.tables import SessionAssignment
from promptyard.team import (
    Permission,
    PermissionDeniedError,
    Role,
    allowed,
    current_identity,
    member_key,
    require,
    role_of,
)
from promptyard.workspace import Workspace


def is_assigned(ws: Workspace, session_id: int, rater: str) -> bool:
    """Whether `rater` (an identity's key) is assigned to labeling session `session_id`."""
    with db.session(ws) as s:
        row = s.exec(
            select(SessionAssignment.id).where(
                SessionAssignment.session_id == session_id,
                SessionAssignment.rater == member_key(rater),
            )
        ).first()
    return row is not None


def require_rating(ws: Workspace, session_id: int | None, what: str = "rate") -> None:
    """Raise PermissionDeniedError unless the identity in force may rate in `session_id`
    (None: a rating outside any session, as on the Compare page)."""
    who = current_identity()
    if who is None or allowed(ws, Permission.RATE_ANY):
        return
    if session_id is None:
        require(ws, Permission.RATE_ANY, f"{what} outside a labeling session")
        return
    require(ws, Permission.RATE_ASSIGNED, f"{what} in labeling session {session_id}")
    if not is_assigned(ws, session_id, who.key):
        raise PermissionDeniedError(
            f"{who.key} is not assigned to labeling session {session_id}; "
            "an editor assigns raters on the Rate page"
        )


def sees_variant_names(ws: Workspace) -> bool:
    """False for raters, who stay blind to which model wrote what, as the session is."""
    return current_identity() is None or role_of(ws) not in (Role.RATER, None)
