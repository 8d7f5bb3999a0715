"""Ratings of cells: store one with its history, read the ones in force, count, export.

A changed rating is a new row and the old one points at it (`superseded_by`), so the
history of every judgement stays. Two raters rating the same cell are two ratings; both
are kept.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from promptyard.csv_safety import write_csv
from promptyard.errors import NotFoundError, PromptyardError
from promptyard.ratings.access import require_rating
from promptyard.ratings.errors import RatingError
from promptyard.ratings.schemes import get_scheme, scheme_version
from promptyard.storage import db
from promptyard.storage.tables import Cell, LabelingSession, Rating, Run, Variant
from promptyard.team import recorded_name
from promptyard.workspace import Workspace

RATER_MAX_LENGTH = 100


def check_rater(rater: str | None) -> str:
    """The rater's name, stripped; RatingError when it is empty or too long. With an
    identity in force it is always that identity's key, whatever name was given."""
    name = (recorded_name(rater) or "").strip()
    if not name:
        raise RatingError("say who is rating: the rater's name is empty")
    if len(name) > RATER_MAX_LENGTH:
        raise RatingError(f"rater name is {len(name)} characters; the limit is {RATER_MAX_LENGTH}")
    return name


def rate_cell(
    ws: Workspace,
    cell_id: int,
    scheme: str,
    value: Any,
    rater: str,
    comment: str | None = None,
    session_id: int | None = None,
) -> Rating:
    """Store `rater`'s judgement of a cell under `scheme` and return the new Rating.

    Refused with a RatingError or NotFoundError (nothing stored) when the cell does not
    exist, the scheme is unknown, or the value does not fit the scheme. A rater's earlier
    rating of the same cell and scheme is kept, pointing at this one.
    """
    name = check_rater(rater)
    require_rating(ws, session_id)
    found = get_scheme(ws, scheme)
    clean = found.validate_value(value)
    version = scheme_version(ws)
    note = (comment or "").strip() or None

    def _write(s: Session) -> Rating:
        cell = s.get(Cell, cell_id)
        if cell is None:
            raise NotFoundError(f"cell {cell_id} does not exist (was its run deleted?)")
        if session_id is not None and s.get(LabelingSession, session_id) is None:
            raise NotFoundError(f"labeling session {session_id} does not exist")
        previous = s.exec(
            select(Rating).where(
                Rating.cell_id == cell_id,
                Rating.scheme == found.name,
                Rating.rater == name,
                col(Rating.superseded_by).is_(None),
            )
        ).all()
        rating = Rating(
            cell_id=cell_id,
            run_id=cell.run_id,
            scheme=found.name,
            scheme_version=version,
            rater=name,
            value_json=json.dumps(clean, ensure_ascii=False),
            score=found.score(clean),
            comment=note,
            session_id=session_id,
        )
        s.add(rating)
        s.flush()
        for old in previous:
            old.superseded_by = rating.id
            s.add(old)
        return rating

    return db.write(ws, _write)


def rating_value(rating: Rating) -> Any:
    """The value a Rating holds, as given (number, bool, label, labels or text)."""
    return json.loads(rating.value_json)


def rating_history(
    ws: Workspace, cell_id: int, scheme: str | None = None, rater: str | None = None
) -> list[Rating]:
    """Every rating of a cell, oldest first, superseded ones included."""
    with db.session(ws) as s:
        query = select(Rating).where(Rating.cell_id == cell_id)
        if scheme:
            query = query.where(Rating.scheme == scheme)
        if rater:
            query = query.where(Rating.rater == rater)
        return list(s.exec(query.order_by(col(Rating.id))).all())


def current_ratings(
    ws: Workspace,
    run_id: int | None = None,
    scheme: str | None = None,
    cell_ids: Sequence[int] | None = None,
    rater: str | None = None,
) -> list[Rating]:
    """The ratings in force (not superseded), by run, scheme, cells or rater."""
    with db.session(ws) as s:
        query = select(Rating).where(col(Rating.superseded_by).is_(None))
        if run_id is not None:
            query = query.where(Rating.run_id == run_id)
        if scheme:
            query = query.where(Rating.scheme == scheme)
        if cell_ids is not None:
            query = query.where(col(Rating.cell_id).in_(list(cell_ids)))
        if rater:
            query = query.where(Rating.rater == rater)
        return list(s.exec(query.order_by(col(Rating.id))).all())


def rating_counts(ws: Workspace, run_id: int) -> dict[str, int]:
    """Current ratings per scheme, plus pairwise votes under the key 'pairwise'."""
    with db.session(ws) as s:
        rows = s.exec(  # type: ignore[call-overload]
            text(
                "SELECT scheme, COUNT(*) FROM rating WHERE run_id = :r AND superseded_by IS NULL "
                "GROUP BY scheme"
            ),
            params={"r": run_id},
        ).all()
        votes = s.exec(  # type: ignore[call-overload]
            text("SELECT COUNT(*) FROM pairwise_vote WHERE run_id = :r"), params={"r": run_id}
        ).one()[0]
    out = {str(name): int(n) for name, n in rows}
    out["pairwise"] = int(votes)
    return out


def export_ratings(
    ws: Workspace, run_id: int, fmt: str = "csv", history: bool = False, raw: bool = False
) -> str:
    """Every rating of a run as CSV or JSONL: cell, variant, scheme and its version, rater,
    value, score, time. Only ratings in force unless `history`. CSV cells a spreadsheet
    would run as formulas get a `'` in front unless `raw`."""
    if fmt not in ("csv", "jsonl"):
        raise PromptyardError(f"unknown export format {fmt!r}: use csv or jsonl")
    with db.session(ws) as s:
        if s.get(Run, run_id) is None:
            raise NotFoundError(f"run {run_id} does not exist")
        query = (
            select(Rating, Cell, Variant)
            .join(Cell, col(Cell.id) == Rating.cell_id)
            .join(Variant, col(Variant.id) == Cell.variant_id)
            .where(Rating.run_id == run_id)
        )
        if not history:
            query = query.where(col(Rating.superseded_by).is_(None))
        rows = s.exec(query.order_by(col(Rating.id))).all()
    records = [
        {
            "rating_id": r.id,
            "run_id": r.run_id,
            "cell_id": r.cell_id,
            "row_id": c.row_id,
            "repeat": c.repeat,
            "variant_id": v.id,
            "variant": v.label,
            "prompt": v.prompt_name,
            "prompt_version": v.prompt_version,
            "model": v.model,
            "scheme": r.scheme,
            "scheme_version": r.scheme_version,
            "rater": r.rater,
            "value": rating_value(r),
            "score": r.score,
            "comment": r.comment,
            "created_at": r.created_at.isoformat() if r.created_at else None,
            "session_id": r.session_id,
            "superseded_by": r.superseded_by,
        }
        for r, c, v in rows
    ]
    return to_text(records, fmt, raw=raw)


def to_text(records: list[dict[str, Any]], fmt: str, raw: bool = False) -> str:
    """Records as JSONL, or CSV with nested values written as JSON and formula-like cells
    neutralised (a leading `'`, see `csv_safety`) unless `raw`."""
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records)
    buf = io.StringIO()
    if records:
        flat = (
            {
                k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict | bool) else v
                for k, v in r.items()
            }
            for r in records
        )
        write_csv(buf, list(records[0]), flat, raw=raw)
    return buf.getvalue()
