"""A run's results read back flat: every cell as one dict of RESULT_FIELDS, for
`promptyard results`, exports and scripts."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import select

from promptyard.runs.state import CELL, VARIANT, get_run
from promptyard.storage import db
from promptyard.storage.payloads import fill_payloads
from promptyard.storage.tables import Cell, CellStatus, Variant
from promptyard.workspace import Workspace

RESULT_FIELDS = (
    "run_id",
    "cell_id",
    "variant",
    "prompt",
    "version",
    "model",
    "row_id",
    "repeat",
    "status",
    "output",
    "reference",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "latency_ms",
    "ttft_ms",
    "error_kind",
    "error_message",
    "cached",
    "attempts",
    "inputs",
    "output_truncated",
    "tool_calls",
)


def cell_pages(
    ws: Workspace,
    run_id: int,
    size: int = 2_000,
    variant_ids: Sequence[int] | None = None,
    finished_only: bool = False,
) -> Iterator[list[Cell]]:
    """The run's cells (of `variant_ids`; with `finished_only` the ok and error ones) with
    their payloads, `size` at a time in id order: a run's cells are stored together, so
    this walks a range of the primary key; each page is read when the last is handled."""
    last_id = 0
    while True:
        query = select(Cell).where(CELL.c.run_id == run_id, CELL.c.id > last_id)
        if variant_ids is not None:
            query = query.where(CELL.c.variant_id.in_(list(variant_ids)))
        if finished_only:
            query = query.where(CELL.c.status != CellStatus.PENDING)
        with db.session(ws) as s:
            cells = list(s.execute(query.order_by(CELL.c.id).limit(size)).scalars())
            fill_payloads(s, cells)
        if not cells:
            return
        last_id = int(cells[-1].id or last_id)
        yield cells


def iter_results(ws: Workspace, run_id: int, chunk: int = 2_000) -> Iterator[dict[str, Any]]:
    """Every cell of a run as a flat dict (RESULT_FIELDS), in variant/row/repeat order."""
    with db.session(ws) as s:
        get_run(s, run_id)
        variants = {
            v.id: v for v in s.execute(select(Variant).where(VARIANT.c.run_id == run_id)).scalars()
        }
    for cells in cell_pages(ws, run_id, chunk):
        for c in cells:
            v = variants[c.variant_id]
            yield {
                "run_id": run_id,
                "cell_id": c.id,
                "variant": v.label,
                "prompt": v.prompt_name,
                "version": f"v{v.prompt_version}" if v.prompt_version else "draft",
                "model": v.model,
                "row_id": c.row_id,
                "repeat": c.repeat,
                "status": c.status,
                "output": c.output,
                "reference": c.reference,
                "prompt_tokens": c.prompt_tokens,
                "completion_tokens": c.completion_tokens,
                "cost_usd": c.cost_usd,
                "latency_ms": c.latency_ms,
                "ttft_ms": c.ttft_ms,
                "error_kind": c.error_kind,
                "error_message": c.error_message,
                "cached": c.cached,
                "attempts": c.attempts,
                "inputs": json.loads(c.inputs_json or "{}"),
                "output_truncated": c.output_truncated,
                "tool_calls": json.loads(c.tool_calls_json) if c.tool_calls_json else None,
            }
