"""The comparison grid as files: every cell of the (filtered) grid as one flat record,
written as CSV (nested values as JSON) or JSONL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from promptyard.errors import PromptyardError
from promptyard.ratings import to_text
from promptyard.reading.compare import (
    Column,
    GridCell,
    GridFilters,
    GridRow,
    columns_for,
    grid_page,
)
from promptyard.workspace import Workspace


def iter_grid_records(
    ws: Workspace, run_ids: Sequence[int], filters: GridFilters | None = None, chunk: int = 500
) -> Iterator[dict[str, Any]]:
    """Every cell of the (filtered) grid as a flat record, page by page."""
    columns = {c.variant_id: c for c in columns_for(ws, run_ids)}
    page = 0
    while True:
        grid = grid_page(ws, run_ids, page, chunk, filters)
        for row in grid.rows:
            for variant_id, head in row.cells.items():
                for view in [head, *head.repeats]:
                    yield _record(columns[variant_id], row, view)
        if page + 1 >= grid.pages:
            return
        page += 1


def _record(column: Column, row: GridRow, view: GridCell) -> dict[str, Any]:
    return {
        "run_id": column.run_id,
        "row_id": row.row_id,
        "row_index": row.row_index,
        "variant": column.label,
        "prompt": column.prompt_name,
        "prompt_version": column.prompt_version,
        "model": column.model,
        "repeat": view.repeat,
        "cell_id": view.cell_id,
        "inputs": row.inputs,
        "reference": row.reference,
        "status": view.status,
        "output": view.output,
        "error_kind": view.error_kind,
        "error_message": view.error_message,
        "prompt_tokens": view.prompt_tokens,
        "completion_tokens": view.completion_tokens,
        "cost_usd": view.cost_usd,
        "latency_ms": view.latency_ms,
        "cached": view.cached,
        "scores": view.scores,
        "ratings": {k: v.values for k, v in view.ratings.items()},
    }


def export_grid(
    ws: Workspace,
    run_ids: Sequence[int],
    fmt: str = "csv",
    filters: GridFilters | None = None,
    raw: bool = False,
) -> str:
    """The grid as CSV (nested values as JSON) or JSONL, one record per cell.

    In CSV, a cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR
    first) gets a `'` in front, unless `raw`.
    """
    if fmt not in ("csv", "jsonl"):
        raise PromptyardError(f"unknown export format {fmt!r}: use csv or jsonl")
    return to_text(list(iter_grid_records(ws, run_ids, filters)), fmt, raw=raw)
