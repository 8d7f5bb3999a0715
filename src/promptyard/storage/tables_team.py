"""SQLModel tables of a team (m019): which raters a labeling session is assigned to.

Kept apart from tables.py (which re-exports them in ALL_TABLES) so each module stays short.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class SessionAssignment(SQLModel, table=True):
    """One rater assigned to one labeling session, by an editor."""

    __tablename__ = "session_assignment"
    __table_args__ = (UniqueConstraint("session_id", "rater"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="labeling_session.id", index=True)
    rater: str = Field(index=True)  # the identity's key: email, else subject
    assigned_by: str | None = None
    assigned_at: datetime = Field(default_factory=_now)
