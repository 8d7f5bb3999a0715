"""Reading a robustness run's stored results: each perturbed row beside its original, and
the consistency verdicts counted per variant and kind.

A robustness run's variant cells are linked to their originals' cells (`cell_perturbation`,
m023), and each compared pair has a verdict (a Score row on the variant cell, suite
`robustness`). `perturbation_pairs` pages through those pairs in SQL, for one kind and
variant or all, optionally only the pairs whose outputs were judged not equivalent
("broken"); the scorer reads every pair through it too. `verdict_counts` counts the
verdicts, for the report (Compare's table, the CLI) and the dashboard's column alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select

from promptyard.storage import db
from promptyard.storage.handles import CELL, SCORE, VARIANT
from promptyard.storage.handles import PERTURBATION as LINK
from promptyard.storage.payloads import payload_columns
from promptyard.storage.tables import CellStatus
from promptyard.storage.tables_robustness import RobustnessRun
from promptyard.workspace import Workspace

ROBUSTNESS_SUITE = "robustness"  # the suite the consistency verdicts are stored under


@dataclass(frozen=True)
class PerturbedPair:
    """An original row and its variant under one prompt version x model, side by side."""

    original_row_id: str
    variant_row_id: str
    kind: str
    variant_id: int
    label: str  # "prompt vN · model"
    original_cell_id: int
    variant_cell_id: int
    original_inputs: dict[str, Any]
    variant_inputs: dict[str, Any]
    original_output: str | None  # None: the call failed (see *_error) or was not sent
    variant_output: str | None
    original_error: str | None
    variant_error: str | None
    consistent: bool | None  # None: not scored, or the measure could not decide
    reason: str | None
    original_status: CellStatus
    variant_status: CellStatus
    prompt_name: str
    model: str
    reference: str | None  # the original row's reference answer

    def changed_inputs(self) -> list[str]:
        """The input columns the perturbation changed."""
        return [k for k, v in self.variant_inputs.items() if self.original_inputs.get(k) != v]


@dataclass(frozen=True)
class PairPage:
    pairs: list[PerturbedPair]
    total: int  # pairs matching the filters, over every page


@dataclass(frozen=True)
class VerdictCount:
    """The stored verdicts of one variant (prompt version x model) under one kind."""

    variant_id: int
    kind: str
    pairs: int  # compared pairs: both calls answered and the measure decided
    consistent: int
    errors: int  # a call failed or the measure could not decide
    measure: str  # the name the verdicts were stored under, e.g. `exact`


def is_robustness_run(ws: Workspace, run_id: int) -> bool:
    """Whether the run was made by `promptyard robustness` (it has perturbed cells)."""
    with db.session(ws) as s:
        return s.get(RobustnessRun, run_id) is not None


def perturbation_pairs(
    ws: Workspace,
    run_id: int,
    *,
    kind: str | None = None,
    variant_id: int | None = None,
    broken_only: bool = False,
    limit: int | None = 20,
    offset: int = 0,
) -> PairPage:
    """One page of the run's (original, variant) pairs, in variant-cell order; every pair
    when `limit` is None."""
    o, v = CELL.alias("o"), CELL.alias("v")
    joined = (
        LINK.join(v, v.c.id == LINK.c.cell_id)
        .join(o, o.c.id == LINK.c.original_cell_id)
        .join(VARIANT, VARIANT.c.id == v.c.variant_id)
        .outerjoin(SCORE, (SCORE.c.cell_id == LINK.c.cell_id) & (SCORE.c.suite == ROBUSTNESS_SUITE))
    )
    where = [LINK.c.run_id == run_id]
    if kind:
        where.append(LINK.c.kind == kind)
    if variant_id is not None:
        where.append(v.c.variant_id == variant_id)
    if broken_only:
        where.append(SCORE.c.passed.is_(False))
    query = (
        select(
            LINK.c.kind,
            LINK.c.original_row_id,
            v.c.row_id,
            v.c.variant_id,
            v.c.id.label("v_id"),
            payload_columns(v).inputs.label("v_inputs"),
            v.c.output.label("v_output"),
            v.c.status.label("v_status"),
            v.c.error_message.label("v_error"),
            o.c.id.label("o_id"),
            payload_columns(o).inputs.label("o_inputs"),
            payload_columns(o).reference.label("o_reference"),
            o.c.output.label("o_output"),
            o.c.status.label("o_status"),
            o.c.error_message.label("o_error"),
            VARIANT.c.prompt_name,
            VARIANT.c.prompt_version,
            VARIANT.c.model,
            SCORE.c.passed,
            SCORE.c.reason,
        )
        .select_from(joined)
        .where(*where)
        .order_by(v.c.id)
        .limit(limit)
        .offset(offset)
    )
    count = select(func.count()).select_from(joined).where(*where)
    with db.session(ws) as s:
        rows = s.execute(query).all()
        # Every pair at once (the scorer): the count is what was read.
        total = len(rows) if limit is None else int(s.execute(count).scalar() or 0)
    pairs = [
        PerturbedPair(
            original_row_id=r.original_row_id,
            variant_row_id=r.row_id,
            kind=r.kind,
            variant_id=int(r.variant_id),
            label=f"{r.prompt_name} {'v' + str(r.prompt_version) if r.prompt_version else 'draft'}"
            f" · {r.model}",
            original_cell_id=int(r.o_id),
            variant_cell_id=int(r.v_id),
            original_inputs=json.loads(r.o_inputs or "{}"),
            variant_inputs=json.loads(r.v_inputs or "{}"),
            original_output=r.o_output if r.o_status == CellStatus.OK else None,
            variant_output=r.v_output if r.v_status == CellStatus.OK else None,
            original_error=r.o_error,
            variant_error=r.v_error,
            consistent=r.passed,
            reason=r.reason,
            original_status=CellStatus(r.o_status),
            variant_status=CellStatus(r.v_status),
            prompt_name=r.prompt_name,
            model=r.model,
            reference=r.o_reference,
        )
        for r in rows
    ]
    return PairPage(pairs, total)


def verdict_counts(
    ws: Workspace | str, *, run_id: int | None = None, variant_ids: Iterable[int] | None = None
) -> list[VerdictCount]:
    """The stored verdicts counted per (variant, kind): of one run's variants, of the
    given variants, or of both filters together. A pair not scored yet is not counted;
    an empty list when nothing was scored."""
    passed = SCORE.c.passed
    query = (
        select(
            CELL.c.variant_id,
            LINK.c.kind,
            func.sum(case((passed.is_not(None), 1), else_=0)).label("pairs"),
            func.sum(case((passed.is_(True), 1), else_=0)).label("consistent"),
            func.sum(case((passed.is_(None), 1), else_=0)).label("errors"),
            func.max(SCORE.c.name).label("measure"),
        )
        .select_from(
            LINK.join(CELL, CELL.c.id == LINK.c.cell_id).join(
                SCORE, (SCORE.c.cell_id == LINK.c.cell_id) & (SCORE.c.suite == ROBUSTNESS_SUITE)
            )
        )
        .group_by(CELL.c.variant_id, LINK.c.kind)
    )
    if run_id is not None:
        query = query.where(LINK.c.run_id == run_id)
    if variant_ids is not None:
        query = query.where(CELL.c.variant_id.in_(list(variant_ids)))
    with db.session(ws) as s:
        rows = s.execute(query).all()
    return [
        VerdictCount(
            int(r.variant_id),
            r.kind,
            int(r.pairs or 0),
            int(r.consistent or 0),
            int(r.errors or 0),
            r.measure or "",
        )
        for r in rows
    ]
