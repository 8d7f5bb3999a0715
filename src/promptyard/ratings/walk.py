"""Walking a labeling session by keyboard: forward through the cells already rated, and
taking back the last rating.

A rater's history in a session is the cells they rated there, in the order they first
rated them; `previous_cell` (sessions) walks it back, `following_cell` forward, and
`undo_last_rating` takes the newest rating out of it.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session, col, select

from promptyard.ratings.ratings import check_rater
from promptyard.ratings.sessions import SessionItem, get_session, session_item
from promptyard.storage import db
from promptyard.storage.tables import Rating
from promptyard.workspace import Workspace


def rated_order(ws: Workspace, session_id: int, rater: str) -> list[int]:
    """The cells `rater` rated in the session, in the order they first rated them."""
    name = check_rater(rater)
    with db.session(ws) as s:
        rows = s.exec(  # type: ignore[call-overload]
            text(
                "SELECT cell_id FROM rating WHERE session_id = :sid AND rater = :rater "
                "GROUP BY cell_id ORDER BY MIN(id)"
            ),
            params={"sid": session_id, "rater": name},
        ).all()
    return [int(r[0]) for r in rows]


def following_cell(
    ws: Workspace, session_id: int, rater: str, current_cell_id: int
) -> SessionItem | None:
    """The cell `rater` rated after `current_cell_id` in the session; None when it is the
    last one they rated (or not one of theirs): the next cell is then the next one due."""
    order = rated_order(ws, session_id, rater)
    if current_cell_id not in order:
        return None
    at = order.index(current_cell_id)
    if at + 1 >= len(order):
        return None
    return session_item(ws, session_id, rater.strip(), order[at + 1])


def undo_last_rating(ws: Workspace, session_id: int, rater: str) -> int | None:
    """Take back `rater`'s newest rating in force in the session and return its cell id
    (None when there is nothing to undo).

    The rating is removed, and the rating it replaced, if any, is in force again: an
    undone keystroke leaves no judgement behind, a changed one goes back to what it was.
    """
    name = check_rater(rater)
    get_session(ws, session_id)  # NotFoundError for an unknown session

    def _write(s: Session) -> int | None:
        newest = s.exec(
            select(Rating)
            .where(
                Rating.session_id == session_id,
                Rating.rater == name,
                col(Rating.superseded_by).is_(None),
            )
            .order_by(col(Rating.id).desc())
        ).first()
        return None if newest is None else _take_back(s, newest)

    return db.write(ws, _write)


def _take_back(s: Session, rating: Rating) -> int:
    replaced = s.exec(select(Rating).where(Rating.superseded_by == rating.id)).all()
    for old in replaced:
        old.superseded_by = None
        s.add(old)
    s.delete(rating)
    return rating.cell_id


def take_back_rating(ws: Workspace, rating_id: int) -> int | None:
    """Take back rating `rating_id` as `undo_last_rating` does (the one it replaced is in
    force again) and return its cell id; None when it is gone or was replaced since."""

    def _write(s: Session) -> int | None:
        rating = s.get(Rating, rating_id)
        if rating is None or rating.superseded_by is not None:
            return None
        return _take_back(s, rating)

    return db.write(ws, _write)
