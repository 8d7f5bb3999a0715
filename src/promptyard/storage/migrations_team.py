"""Migration m019: labeling assignments (session_assignment) and who started a run."""

from __future__ import annotations

from sqlalchemy import Connection, text

from promptyard.storage.ddl import primary_key


def m019_team(conn: Connection) -> None:
    # An editor assigns raters to a session; a rater's queue is these rows. One row per
    # session and rater, so assigning twice changes nothing.
    pk = primary_key(conn)
    conn.execute(
        text(
            f"""CREATE TABLE session_assignment (
                id {pk},
                session_id INTEGER NOT NULL REFERENCES labeling_session (id),
                rater TEXT NOT NULL,
                assigned_by TEXT,
                assigned_at TIMESTAMP NOT NULL,
                UNIQUE (session_id, rater)
            )"""
        )
    )
    conn.execute(
        text("CREATE INDEX ix_session_assignment_session_id ON session_assignment (session_id)")
    )
    conn.execute(text("CREATE INDEX ix_session_assignment_rater ON session_assignment (rater)"))
    # The signed-in identity that started a run (None: before sign-in, or sign-in off).
    conn.execute(text("ALTER TABLE run ADD COLUMN created_by TEXT"))
