"""Labeling assignments: an editor gives a session to raters; each rater sees a queue with
progress; the editor sees progress per rater (agreement comes from `run_agreement`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel import Session, col, select

from promptyard.errors import NotFoundError
from promptyard.ratings.errors import RatingError
from promptyard.ratings.pairwise import pairwise_progress
from promptyard.ratings.ratings import RATER_MAX_LENGTH
from promptyard.ratings.sessions import SessionKind, session_progress
from promptyard.storage import db
from promptyard.storage.tables import LabelingSession, Run, SessionAssignment
from promptyard.team import Permission, current_identity, member_key, recorded_name, require
from promptyard.workspace import Workspace


@dataclass(frozen=True)
class QueueEntry:
    """One session in a rater's queue: what it is and how far they are."""

    session_id: int
    run_id: int
    run_name: str
    kind: str  # SessionKind
    scheme: str | None
    done: int  # cells rated (or pairs voted on) by this rater
    total: int  # cells (or pairs) in the session

    @property
    def fraction(self) -> float:
        return 1.0 if self.total == 0 else min(1.0, self.done / self.total)


@dataclass(frozen=True)
class RaterProgress:
    """One rater's share of a session, for the editor."""

    rater: str
    assigned: bool  # False: rated without being assigned (an editor, before assignments)
    done: int
    total: int


def _clean(rater: str) -> str:
    name = member_key(rater)
    if not name:
        raise RatingError("a rater to assign is an email or subject; this one is empty")
    if len(name) > RATER_MAX_LENGTH:
        raise RatingError(f"rater {name[:40]}… is longer than {RATER_MAX_LENGTH} characters")
    return name


def assign_raters(ws: Workspace, session_id: int, raters: Sequence[str]) -> list[str]:
    """Assign `raters` (emails or subjects) to the session, keeping those already there;
    the session's raters afterwards. Editors and admins only."""
    require(ws, Permission.MANAGE_SESSIONS, "assign raters")
    names = list(dict.fromkeys(_clean(r) for r in raters))
    by = recorded_name(None)

    def _write(s: Session) -> None:
        if s.get(LabelingSession, session_id) is None:
            raise NotFoundError(f"labeling session {session_id} does not exist")
        have = set(
            s.exec(
                select(SessionAssignment.rater).where(SessionAssignment.session_id == session_id)
            ).all()
        )
        for name in names:
            if name not in have:
                s.add(SessionAssignment(session_id=session_id, rater=name, assigned_by=by))

    db.write(ws, _write)
    return session_raters(ws, session_id)


def unassign_rater(ws: Workspace, session_id: int, rater: str) -> list[str]:
    """Take `rater` off the session (their ratings stay); the session's raters afterwards."""
    require(ws, Permission.MANAGE_SESSIONS, "unassign raters")
    name = _clean(rater)

    def _write(s: Session) -> None:
        for row in s.exec(
            select(SessionAssignment).where(
                SessionAssignment.session_id == session_id, SessionAssignment.rater == name
            )
        ).all():
            s.delete(row)

    db.write(ws, _write)
    return session_raters(ws, session_id)


def run_sessions(ws: Workspace, run_id: int) -> list[LabelingSession]:
    """The labeling sessions of a run, oldest first."""
    with db.session(ws) as s:
        return list(
            s.exec(
                select(LabelingSession)
                .where(LabelingSession.run_id == run_id)
                .order_by(col(LabelingSession.id))
            ).all()
        )


def session_raters(ws: Workspace, session_id: int) -> list[str]:
    """The raters assigned to the session, in the order they were assigned."""
    with db.session(ws) as s:
        return list(
            s.exec(
                select(SessionAssignment.rater)
                .where(SessionAssignment.session_id == session_id)
                .order_by(col(SessionAssignment.id))
            ).all()
        )


def _done_and_total(ws: Workspace, sess: LabelingSession, rater: str) -> tuple[int, int]:
    assert sess.id is not None
    if sess.kind == SessionKind.PAIRWISE:
        return pairwise_progress(ws, sess.id, rater)
    progress = session_progress(ws, sess.id, rater)
    return progress.rated_by_me, progress.total


def rater_queue(ws: Workspace, rater: str | None = None) -> list[QueueEntry]:
    """The sessions assigned to `rater` (default: the identity in force), newest first,
    each with how far they are."""
    name = _clean(recorded_name(rater) or "")
    with db.session(ws) as s:
        rows = s.exec(
            select(LabelingSession, Run)
            .join(SessionAssignment, col(SessionAssignment.session_id) == col(LabelingSession.id))
            .join(Run, col(Run.id) == col(LabelingSession.run_id))
            .where(SessionAssignment.rater == name)
            .order_by(col(LabelingSession.id).desc())
        ).all()
    out = []
    for sess, run in rows:
        assert sess.id is not None and run.id is not None
        done, total = _done_and_total(ws, sess, name)
        out.append(
            QueueEntry(sess.id, run.id, run.name or "run", sess.kind, sess.scheme, done, total)
        )
    return out


def rater_progress(ws: Workspace, session_id: int) -> list[RaterProgress]:
    """Progress of every assigned rater, and of anyone else who rated in the session."""
    require(ws, Permission.MANAGE_SESSIONS, "see the progress of raters")
    with db.session(ws) as s:
        sess = s.get(LabelingSession, session_id)
        if sess is None:
            raise NotFoundError(f"labeling session {session_id} does not exist")
        table = "pairwise_vote" if sess.kind == SessionKind.PAIRWISE else "rating"
        others = [
            str(r[0])
            for r in s.exec(  # type: ignore[call-overload]
                text(f"SELECT DISTINCT rater FROM {table} WHERE session_id = :sid ORDER BY rater"),
                params={"sid": session_id},
            ).all()
        ]
    assigned = session_raters(ws, session_id)
    out = []
    for name in [*assigned, *(o for o in others if o not in assigned)]:
        done, total = _done_and_total(ws, sess, name)
        out.append(RaterProgress(name, name in assigned, done, total))
    return out


def signed_in_rater() -> str | None:
    """The key the queue and progress are looked up under: the identity in force, if any."""
    who = current_identity()
    return who.key if who is not None else None
