"""Labeling sessions: raters share one per run and scheme, each walks the cells due.

A cell is due for a rater until they rated it or it has the session's k raters; cells
come in dataset order, so a rater who leaves resumes where they stopped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from promptyard.errors import NotFoundError, PromptyardError
from promptyard.ratings.access import require_rating
from promptyard.ratings.errors import RatingError
from promptyard.ratings.ratings import check_rater, rating_value
from promptyard.ratings.schemes import get_scheme
from promptyard.storage import db
from promptyard.storage.payloads import fill_payloads
from promptyard.storage.tables import Cell, LabelingSession, Rating, Run, Variant
from promptyard.team import Permission, recorded_name, require
from promptyard.workspace import Workspace


class SessionKind(StrEnum):
    RATE = "rate"  # one cell at a time under one scheme
    PAIRWISE = "pairwise"  # blind pairs of outputs for the same row


@dataclass(frozen=True)
class SessionItem:
    """One cell as a rater sees it in a session: no variant name, the rater's own value."""

    cell_id: int
    row_id: str
    inputs: dict[str, Any]
    reference: str | None
    output: str | None
    value: Any = None  # this rater's rating in force, None when not rated yet
    comment: str | None = None


@dataclass(frozen=True)
class SessionProgress:
    """How far a session is, for one rater and overall."""

    total: int  # cells in the session
    rated_by_me: int
    remaining_for_me: int  # cells still wanting a rating from this rater
    complete: int  # cells with the k ratings asked for

    @property
    def fraction(self) -> float:
        return 1.0 if self.total == 0 else 1 - self.remaining_for_me / self.total


def _options_json(variant_ids: Sequence[int] | None) -> str:
    options: dict[str, Any] = {}
    if variant_ids:
        options["variant_ids"] = sorted(int(v) for v in variant_ids)
    return json.dumps(options, sort_keys=True)


def _session_query(run_id: int, kind: str, scheme: str | None, options_json: str) -> Any:
    query = select(LabelingSession).where(
        LabelingSession.run_id == run_id,
        LabelingSession.kind == str(kind),
        LabelingSession.options_json == options_json,
    )
    query = query.where(
        LabelingSession.scheme == scheme if scheme else col(LabelingSession.scheme).is_(None)
    )
    return query.order_by(col(LabelingSession.id))


def find_session(
    ws: Workspace,
    run_id: int,
    kind: str = SessionKind.RATE,
    scheme: str | None = None,
    variant_ids: Sequence[int] | None = None,
) -> LabelingSession | None:
    """The session raters of this run, kind, scheme (and variants) share, if one exists."""
    scheme = scheme if kind == SessionKind.RATE else None
    with db.session(ws) as s:
        found: LabelingSession | None = s.exec(
            _session_query(run_id, kind, scheme, _options_json(variant_ids))
        ).first()
    return found


def open_session(
    ws: Workspace,
    run_id: int,
    kind: str = SessionKind.RATE,
    scheme: str | None = None,
    raters_per_cell: int = 1,
    variant_ids: Sequence[int] | None = None,
    seed: int = 0,
    created_by: str | None = None,
) -> LabelingSession:
    """The session for this run, kind, scheme (and variants): the existing one, so every
    rater joins it and resumes, else a new one with `raters_per_cell` and `seed`."""
    require(ws, Permission.MANAGE_SESSIONS, "open labeling sessions")
    created_by = recorded_name(created_by)
    if kind not in {k.value for k in SessionKind}:
        raise PromptyardError(f"unknown session kind {kind!r}: use rate or pairwise")
    scheme = scheme if kind == SessionKind.RATE else None
    if kind == SessionKind.RATE:
        if not scheme:
            raise RatingError("a rating session needs a scheme")
        get_scheme(ws, scheme)
    if raters_per_cell < 1:
        raise RatingError("raters per cell must be at least 1")
    options_json = _options_json(variant_ids)

    def _write(s: Session) -> LabelingSession:
        run = s.get(Run, run_id)
        if run is None:
            raise NotFoundError(f"run {run_id} does not exist")
        if variant_ids:
            known = set(s.exec(select(Variant.id).where(Variant.run_id == run_id)).all())
            missing = sorted(set(variant_ids) - known)
            if missing:
                raise NotFoundError(f"run {run_id} has no variant {missing[0]}")
            if kind == SessionKind.PAIRWISE and len(set(variant_ids)) < 2:
                raise RatingError("a blind pairwise session needs two variants")
        existing = s.exec(_session_query(run_id, kind, scheme, options_json)).first()
        if existing is not None:
            return existing
        session_row = LabelingSession(
            run_id=run_id,
            kind=str(kind),
            scheme=scheme if kind == SessionKind.RATE else None,
            raters_per_cell=raters_per_cell,
            seed=seed,
            created_by=created_by,
            options_json=options_json,
        )
        s.add(session_row)
        s.flush()
        return session_row

    return db.write(ws, _write)


def get_session(ws: Workspace, session_id: int) -> LabelingSession:
    """The labeling session `session_id`; NotFoundError when there is none."""
    with db.session(ws) as s:
        found = s.get(LabelingSession, session_id)
    if found is None:
        raise NotFoundError(f"labeling session {session_id} does not exist")
    return found


def _session_variants(sess: LabelingSession) -> list[int]:
    return [int(v) for v in json.loads(sess.options_json or "{}").get("variant_ids", [])]


_ELIGIBLE = """
FROM cell c
WHERE c.run_id = :run AND c.status = 'ok' {variant_filter}
"""

# Ratings in force per cell: how many raters, and whether :rater is one. A rater has at
# most one rating in force per cell and scheme (rate_cell supersedes in one transaction).
_PER_CELL = """
SELECT r.cell_id AS cell_id, COUNT(*) AS n, MAX(CASE WHEN r.rater = :rater THEN 1 ELSE 0 END) AS mine
FROM rating r WHERE r.run_id = :run AND r.scheme = :scheme AND r.superseded_by IS NULL
GROUP BY r.cell_id
"""

# Computed once, not per cell, so the walk costs one lookup per cell it passes.
_NOT_DONE = f"""
  AND c.id NOT IN (SELECT cell_id FROM ({_PER_CELL}) AS per WHERE per.n >= :k OR per.mine = 1)
"""


def _variant_filter(sess: LabelingSession) -> str:
    ids = _session_variants(sess)
    return f"AND c.variant_id IN ({', '.join(str(i) for i in ids)})" if ids else ""


def next_cell(
    ws: Workspace,
    session_id: int,
    rater: str,
    skip: Sequence[int] = (),
    later: Sequence[int] = (),
) -> SessionItem | None:
    """The next cell this rater should rate, or None when the session is done for them.

    Cells come in dataset order; a cell is due when this rater has not rated it and it
    has fewer than the session's k raters. `skip` holds cells left out altogether;
    `later` holds cells skipped for now, served once no other cell is due, the one
    skipped first coming first.
    """
    name = check_rater(rater)
    require_rating(ws, session_id, "rate")
    sess = get_session(ws, session_id)
    deferred = [int(i) for i in later if int(i) not in set(skip)]
    skipped = "".join(f" AND c.id != {int(i)}" for i in [*skip, *deferred])
    sql = (
        "SELECT c.id "
        + _ELIGIBLE.format(variant_filter=_variant_filter(sess))
        + _NOT_DONE
        + skipped
        # dataset order; ix_cell_run_order lets the walk stop at the first cell due
        + " ORDER BY c.row_index, c.variant_id, c.repeat LIMIT 1"
    )
    params = {"run": sess.run_id, "scheme": sess.scheme, "rater": name, "k": sess.raters_per_cell}
    with db.session(ws) as s:
        row = s.exec(text(sql), params=params).first()  # type: ignore[call-overload]
        if row is None and deferred:
            due_sql = (
                "SELECT c.id "
                + _ELIGIBLE.format(variant_filter=_variant_filter(sess))
                + _NOT_DONE
                + f" AND c.id IN ({', '.join(str(i) for i in deferred)})"
            )
            due = {int(r[0]) for r in s.exec(text(due_sql), params=params).all()}  # type: ignore[call-overload]
            row = next(((i,) for i in deferred if i in due), None)
    if row is None:
        return None
    return session_item(ws, session_id, name, int(row[0]))


def session_item(ws: Workspace, session_id: int, rater: str, cell_id: int) -> SessionItem:
    """Cell `cell_id` as rater sees it in the session, with their rating in force."""
    rater = check_rater(rater)
    require_rating(ws, session_id, "rate")
    sess = get_session(ws, session_id)
    with db.session(ws) as s:
        cell = s.get(Cell, cell_id)
        if cell is None or cell.run_id != sess.run_id:
            raise NotFoundError(f"cell {cell_id} is not in this session's run")
        fill_payloads(s, [cell])
        mine = s.exec(
            select(Rating).where(
                Rating.cell_id == cell_id,
                Rating.scheme == (sess.scheme or ""),
                Rating.rater == rater.strip(),
                col(Rating.superseded_by).is_(None),
            )
        ).first()
    return SessionItem(
        cell_id=cell_id,
        row_id=cell.row_id,
        inputs=json.loads(cell.inputs_json or "{}"),
        reference=cell.reference,
        output=cell.output,
        value=rating_value(mine) if mine else None,
        comment=mine.comment if mine else None,
    )


def previous_cell(
    ws: Workspace, session_id: int, rater: str, current_cell_id: int | None = None
) -> SessionItem | None:
    """The cell this rater rated in the session before `current_cell_id` (the last one
    rated when the current cell is new), or None at the start."""
    name = check_rater(rater)
    with db.session(ws) as s:
        rows = s.exec(  # type: ignore[call-overload]
            text(
                "SELECT cell_id FROM rating WHERE session_id = :sid AND rater = :rater "
                "GROUP BY cell_id ORDER BY MIN(id)"
            ),
            params={"sid": session_id, "rater": name},
        ).all()
    order = [int(r[0]) for r in rows]
    if current_cell_id in order:
        at = order.index(current_cell_id)
        return session_item(ws, session_id, name, order[at - 1]) if at > 0 else None
    return session_item(ws, session_id, name, order[-1]) if order else None


def session_progress(ws: Workspace, session_id: int, rater: str) -> SessionProgress:
    """How far the session is, for this rater and overall."""
    name = check_rater(rater)
    sess = get_session(ws, session_id)
    vf = _variant_filter(sess)
    params = {"run": sess.run_id, "scheme": sess.scheme, "rater": name, "k": sess.raters_per_cell}
    with db.session(ws) as s:
        total = s.exec(
            text("SELECT COUNT(*) " + _ELIGIBLE.format(variant_filter=vf)), params=params
        ).one()[0]  # type: ignore[call-overload]
        ineligible = "c.status != 'ok'" + (
            f" OR c.variant_id NOT IN ({', '.join(str(i) for i in _session_variants(sess))})"
            if vf
            else ""
        )
        stats = s.exec(  # type: ignore[call-overload]
            text(
                "SELECT COUNT(*), COALESCE(SUM(mine), 0),"
                " COALESCE(SUM(CASE WHEN n >= :k THEN 1 ELSE 0 END), 0),"
                " COALESCE(SUM(CASE WHEN mine > 0 OR n >= :k THEN 1 ELSE 0 END), 0)"
                f" FROM ({_PER_CELL}) AS per WHERE per.cell_id NOT IN"
                f" (SELECT c.id FROM cell c WHERE c.run_id = :run AND ({ineligible}))"
            ),
            params=params,
        ).one()
    _, mine, complete, done_for_me = (int(x) for x in stats)
    return SessionProgress(
        total=int(total),
        rated_by_me=mine,
        remaining_for_me=int(total) - done_for_me,
        complete=complete,
    )
