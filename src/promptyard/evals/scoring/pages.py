"""A run's finished cells a page at a time, for scoring runs of any size.

A scoring job walks the cells by id (`runs.cell_pages`), a page of ORM cells with their
payloads at a time, so a million-cell run is scored in the memory of one page.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import func
from sqlmodel import col, select

from promptyard.errors import NotFoundError
from promptyard.runs import cell_pages
from promptyard.storage import db
from promptyard.storage.tables import Cell, CellStatus, Variant
from promptyard.workspace import Workspace


def _variants(ws: Workspace, run_id: int, variant_ids: Sequence[int] | None) -> dict[int, Variant]:
    with db.session(ws) as s:
        found = {v.id: v for v in s.exec(select(Variant).where(Variant.run_id == run_id)).all()}
    if not found:
        raise NotFoundError(f"no run {run_id} (or it has no variants)")
    wanted = found if variant_ids is None else {v: found[v] for v in variant_ids if v in found}
    return {int(v): variant for v, variant in wanted.items() if v is not None}


def count_finished(ws: Workspace, run_id: int, variant_ids: Sequence[int] | None = None) -> int:
    """How many of the run's cells (of these variants) are finished: ok or error."""
    variants = _variants(ws, run_id, variant_ids)
    with db.session(ws) as s:
        n = s.exec(
            select(func.count())
            .select_from(Cell)
            .where(col(Cell.variant_id).in_(list(variants)), Cell.status != CellStatus.PENDING)
        ).one()
    return int(n)


def finished_pages(
    ws: Workspace, run_id: int, variant_ids: Sequence[int] | None = None, size: int = 500
) -> Iterator[list[tuple[Cell, Variant]]]:
    """The run's finished cells (of these variants) with their variants, `size` at a time,
    in id order; each page is read when the one before it has been handled."""
    variants = _variants(ws, run_id, variant_ids)
    for page in cell_pages(ws, run_id, size, list(variants), finished_only=True):
        yield [(c, variants[c.variant_id]) for c in page]
