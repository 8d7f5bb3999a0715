"""Robustness runs in Compare: each perturbed row beside its original, with the verdict.

A robustness run's variant cells are linked to their originals' cells (`cell_perturbation`,
m023). `perturbation_pairs` pages through those pairs in SQL, for one kind and variant or
all, optionally only the pairs whose outputs were judged not equivalent ("broken").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

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
    original_output: str | None  # None: the call failed (see *_error)
    variant_output: str | None
    original_error: str | None
    variant_error: str | None
    consistent: bool | None  # None: not scored, or the measure could not decide
    reason: str | None

    def changed_inputs(self) -> list[str]:
        """The input columns the perturbation changed."""
        return [k for k, v in self.variant_inputs.items() if self.original_inputs.get(k) != v]


@dataclass(frozen=True)
class PairPage:
    pairs: list[PerturbedPair]
    total: int  # pairs matching the filters, over every page


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
    limit: int = 20,
    offset: int = 0,
) -> PairPage:
    """One page of the run's (original, variant) pairs, in variant-cell order."""
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
        total = int(s.execute(count).scalar() or 0)
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
        )
        for r in rows
    ]
    return PairPage(pairs, total)
