"""Where playground calls go: their own table (m021), a run only when the user saves one,
and the inputs into a dataset row.

A playground call never takes a run id by itself, so the first run a user starts is
"Run 1", and Compare and Rate list only runs someone meant to keep.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import text, update
from sqlmodel import Session

from promptyard.runs.planning import RunPlan
from promptyard.runs.records import CellTodo, cell_update, create_run
from promptyard.runs.state import CELL, finish_run
from promptyard.storage import db
from promptyard.storage.tables import Cell, RunStatus
from promptyard.workspace import Workspace

if TYPE_CHECKING:
    from promptyard.datasets import DatasetVersion
    from promptyard.models import Completion

_INSERT = text(
    """INSERT INTO playground_call (
        session_id, created_at, position, prompt_name, prompt_sha, prompt_version,
        template_text, model, parameters_json, inputs_json, messages_json, output,
        error_kind, error_message, prompt_tokens, completion_tokens, cost_usd,
        latency_ms, ttft_ms, saved_run_id
    ) VALUES (
        :session_id, :created_at, :position, :prompt_name, :prompt_sha, :prompt_version,
        :template_text, :model, :parameters_json, :inputs_json, :messages_json, :output,
        :error_kind, :error_message, :prompt_tokens, :completion_tokens, :cost_usd,
        :latency_ms, :ttft_ms, NULL
    )"""
)


def record_calls(
    ws: Workspace,
    session_id: str,
    plan: RunPlan,
    inputs: Mapping[str, Any],
    results: Sequence[Completion | None],
    started_at: datetime,
) -> None:
    """Store one `playground_call` row per column of a finished call, in one write."""
    rows = []
    for position, (cell, result) in enumerate(zip(plan.cells, results, strict=True)):
        variant = plan.variants[cell.variant]
        rows.append(
            {
                "session_id": session_id,
                "created_at": started_at,
                "position": position,
                "prompt_name": variant.prompt_name,
                "prompt_sha": variant.prompt_sha,
                "prompt_version": variant.prompt_version,
                "template_text": variant.template_text,
                "model": variant.model,
                "parameters_json": json.dumps(variant.parameters, default=str),
                "inputs_json": json.dumps(dict(inputs), default=str, ensure_ascii=False),
                "messages_json": cell.messages_json,
                "output": result.text if result else None,
                "error_kind": result.error_kind if result else None,
                "error_message": result.error_message if result else None,
                "prompt_tokens": result.prompt_tokens if result else None,
                "completion_tokens": result.completion_tokens if result else None,
                "cost_usd": result.cost_usd if result else None,
                "latency_ms": result.latency_ms if result else None,
                "ttft_ms": result.ttft_ms if result else None,
            }
        )
    db.write(ws, lambda s: s.execute(_INSERT, rows))


def playground_calls(ws: Workspace, session_id: str) -> list[dict[str, Any]]:
    """The stored columns of one playground call, in column order (empty when unknown)."""
    with db.session(ws) as s:
        found = s.execute(
            text("SELECT * FROM playground_call WHERE session_id = :sid ORDER BY position"),
            {"sid": session_id},
        )
        return [dict(r._mapping) for r in found]


def store_as_run(
    ws: Workspace,
    session_id: str,
    plan: RunPlan,
    results: Sequence[Completion | None],
    started_at: datetime,
) -> int:
    """Make a finished playground call a completed run (its cells filled); its id."""
    from sqlalchemy import select

    from promptyard.models import ErrorKind
    from promptyard.runs.sending import error_completion

    t0 = time.monotonic()
    run_id = create_run(ws, plan, concurrency=max(1, len(plan.cells)), use_cache=False)
    with db.session(ws) as s:
        found = s.execute(select(CELL.c.id).where(CELL.c.run_id == run_id).order_by(CELL.c.id))
        ids = [r[0] for r in found]
    updates = []
    for cell_id, result in zip(ids, results, strict=True):
        done = result or error_completion(ErrorKind.INVALID_RESPONSE, "no answer", 0.0)
        updates.append(cell_update(CellTodo(cell_id, 0, 0, ""), done, 1, started_at))

    def apply(s: Session) -> None:
        s.execute(update(Cell), updates)
        s.execute(
            text("UPDATE playground_call SET saved_run_id = :rid WHERE session_id = :sid"),
            {"rid": run_id, "sid": session_id},
        )

    db.write(ws, apply)
    finish_run(ws, run_id, time.monotonic() - t0, RunStatus.COMPLETED, None)
    return run_id


def add_inputs_to_dataset(
    ws: Workspace,
    dataset: str,
    inputs: Mapping[str, Any],
    message: str | None = None,
    author: str | None = None,
) -> DatasetVersion:
    """Append `inputs` as a new row of `dataset` (made when it does not exist), committed.

    Returns the new version. Raises DatasetError for a bad name or empty inputs.
    """
    from promptyard.datasets import DatasetError, list_datasets, load_dataset, save_dataset

    name = (dataset or "").strip()
    if not name:
        raise DatasetError("pick a dataset, or type the name of a new one")
    row = {str(k): v for k, v in inputs.items()}
    if not row:
        raise DatasetError("the prompt has no inputs to add")
    what = message or f"Add a row from the playground to {name}"
    if name in {d.name for d in list_datasets(ws)}:
        current = load_dataset(ws, name)
        rows = [*current.rows, row]
        base = current.version.sha if current.version else None
        return save_dataset(ws, name, rows, what, base=base, author=author)
    return save_dataset(ws, name, [row], what, author=author)
