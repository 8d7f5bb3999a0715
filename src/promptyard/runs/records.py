"""Run records: storing a plan as a run, and the row a finished call writes.

`create_run` stores a Run, its Variants and one pending Cell per call; `cell_update` is
the row a finished call stores on its cell. `runs.results` reads every cell back flat.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import func, select
from sqlmodel import Session

from promptyard.guardrails import guarded_key, policy_tag
from promptyard.runs.limits import MAX_OUTPUT_BYTES
from promptyard.runs.planning import PlanError, RunPlan, require_keys
from promptyard.runs.state import CELL, VARIANT
from promptyard.runs.state import cancel_run as _cancel_unchecked
from promptyard.storage import db
from promptyard.storage.payloads import UNSTORED, payload_columns
from promptyard.storage.raw_response import compact_raw
from promptyard.storage.tables import CellStatus, Run, RunStatus, Variant, utcnow
from promptyard.team import Permission, recorded_name, require
from promptyard.workspace import Workspace

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from promptyard.models import Completion
    from promptyard.runs.head_start import HeadCall

INSERT_CHUNK = 5_000


def cancel_run(ws: Workspace, run_id: int) -> None:
    """Ask the run's worker to stop (a run with no live worker is cancelled now), when the
    identity in force may start runs; PermissionDeniedError otherwise."""
    require(ws, Permission.START_RUNS, f"cancel run {run_id}")
    _cancel_unchecked(ws, run_id)


def create_run(
    ws: Workspace,
    plan: RunPlan,
    concurrency: int = 8,
    max_cost: float | None = None,
    use_cache: bool = True,
) -> int:
    """Store the plan as a pending run (Run, Variants, one pending Cell per call).

    With `max_cost` the price of every model must be known, or the cap could not hold.
    Raises MissingKeyError, naming the model and the variable, when a model needs an API
    key that is not set, and GuardrailsError when `plan.guardrails` names no policy.
    """
    require(ws, Permission.START_RUNS, "start runs")
    if concurrency < 1:
        raise PlanError(["concurrency must be at least 1"])
    require_keys(ws, [v.endpoint for v in plan.variants])
    if max_cost is not None:
        if max_cost <= 0:
            raise PlanError(["the budget must be more than $0"])
        from promptyard.models import estimate_cost

        unknown = [v.model for v in plan.variants if estimate_cost(v.endpoint, 1000, 1000) is None]
        if unknown:
            raise PlanError(
                [
                    f"cannot hold a budget: the price of {', '.join(dict.fromkeys(unknown))} is "
                    "unknown (set input_cost_per_token/output_cost_per_token in models.yaml)"
                ]
            )

    guard_tag = policy_tag(
        ws, plan.guardrails
    )  # an unknown policy: GuardrailsError, nothing stored

    def store(s: Session) -> int:
        run = Run(
            name=plan.name,
            status=RunStatus.PENDING,
            dataset_name=plan.dataset_name,
            dataset_sha=plan.dataset_sha,
            slice_json=json.dumps(plan.slice, default=str),
            repeats=plan.repeats,
            concurrency=concurrency,
            max_cost_usd=max_cost,
            use_cache=use_cache,
            total_cells=plan.calls,
            kind=plan.kind,
            guardrail_policy=plan.guardrails,
            mapping_json=json.dumps(plan.mapping, sort_keys=True) if plan.mapping else None,
            created_by=recorded_name(None),
        )
        s.add(run)
        s.flush()
        assert run.id is not None
        variant_ids: list[int] = []
        templates = template_groups(plan.cells, len(plan.variants))
        for position, v in enumerate(plan.variants):
            row = Variant(
                run_id=run.id,
                position=position,
                prompt_name=v.prompt_name,
                prompt_sha=v.prompt_sha,
                prompt_version=v.prompt_version,
                template_text=v.template_text,
                model=v.model,
                parameters_json=v.parameters_json,
                template=templates[position],
            )
            s.add(row)
            s.flush()
            assert row.id is not None
            variant_ids.append(row.id)
        # Streamed a chunk at a time as plain tuples through the driver's executemany: a
        # million-cell plan never holds its rows at once, and no statement is compiled per row.
        insert_cells(s, run.id, variant_ids, plan.cells, guard_tag, templates)
        return run.id

    return db.write(ws, store)


_CELL_COLUMNS = (
    "run_id", "variant_id", "row_id", "row_index", "repeat", "inputs_json", "reference",
    "messages_json", "status", "cached", "attempts", "cache_key", "output_truncated",
    "execution",
)  # fmt: skip


def template_groups(cells: Any, n_variants: int) -> list[int]:
    """Each variant's template group (`Variant.template`): a plan's `cells.templates`, else
    (cells given as a list, which may differ per variant) a group of its own per variant."""
    groups = getattr(cells, "templates", None)
    return list(groups) if groups is not None else list(range(n_variants))


def _insert_sql(conn: Any, table: str, columns: tuple[str, ...]) -> str:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"


def insert_cells(
    s: Session,
    run_id: int,
    variant_ids: list[int],
    cells: Iterable[Any],
    guard_tag: str | None = None,
    templates: Sequence[int] | None = None,
) -> int:
    """Insert pending cells in batches of INSERT_CHUNK (executemany); return how many.

    Each row's inputs and reference go in `run_row` the first time its row index is seen,
    each (template group, row)'s messages in `run_message` the first time that pair is
    (`templates[v]`: variant v's group, as stored in `Variant.template`); the cells carry
    neither. Cells come variant by variant, each variant's rows in ascending row index
    from 0, so "first seen" is "above the highest seen": nothing per row is held.
    With `guard_tag` (a guarded run's `policy_tag`) each cache key carries the policy.
    """
    groups = list(templates) if templates is not None else template_groups(cells, len(variant_ids))
    conn = s.connection()
    if conn.dialect.name == "sqlite":
        # Indexes on cell, one of them on a hash: a bigger page cache for this
        # connection keeps their pages in memory while a big plan goes in.
        conn.exec_driver_sql("PRAGMA cache_size = -32768")
    cell_sql = _insert_sql(conn, "cell", _CELL_COLUMNS)
    row_sql = _insert_sql(
        conn, "run_row", ("run_id", "row_index", "row_id", "inputs_json", "reference")
    )
    message_sql = _insert_sql(
        conn, "run_message", ("run_id", "template", "row_index", "messages_json")
    )
    pending = str(CellStatus.PENDING)
    n = 0
    chunk: list[tuple[Any, ...]] = []
    row_chunk: list[tuple[Any, ...]] = []
    message_chunk: list[tuple[Any, ...]] = []
    top_row = -1  # the highest row index whose run_row is written
    top_message: dict[int, int] = {}  # template group -> highest row index with its messages
    last = (-1, -1)  # (variant, row index) of the cell before: the order is checked as it goes

    def flush() -> None:
        if row_chunk:
            conn.exec_driver_sql(row_sql, row_chunk)
            row_chunk.clear()
        if message_chunk:
            conn.exec_driver_sql(message_sql, message_chunk)
            message_chunk.clear()
        conn.exec_driver_sql(cell_sql, chunk)

    for c in cells:
        if c.variant < last[0] or (c.variant == last[0] and c.row_index < last[1]):
            raise ValueError(f"cells out of order at variant {c.variant}, row {c.row_index}")
        last = (c.variant, c.row_index)
        if c.row_index > top_row:
            row_chunk.append((run_id, c.row_index, c.row_id, c.inputs_json, c.reference))
            top_row = c.row_index
        group = groups[c.variant]
        if c.row_index > top_message.get(group, -1):
            message_chunk.append((run_id, group, c.row_index, c.messages_json))
            top_message[group] = c.row_index
        chunk.append(
            (
                run_id, variant_ids[c.variant], c.row_id, c.row_index, c.repeat, UNSTORED,
                None, UNSTORED, pending, False, 0, guarded_key(c.cache_key, guard_tag), False, 0,
            )
        )  # fmt: skip
        if len(chunk) >= INSERT_CHUNK:
            flush()
            n += len(chunk)
            chunk = []
    if chunk:
        flush()
        n += len(chunk)
    return n


def require_run_keys(ws: Workspace, run_id: int) -> None:
    """Refuse to start (or resume) a stored run whose models lack their API keys."""
    from promptyard.models import resolve_model

    with db.session(ws) as s:
        models = s.execute(select(VARIANT.c.model).where(VARIANT.c.run_id == run_id)).scalars()
        names = sorted(set(models))
    require_keys(ws, [resolve_model(ws, name) for name in names])


@dataclass(slots=True)
class CellTodo:
    """A cell still to send: its id, variant, repeat and rendered messages."""

    cell_id: int
    variant_id: int
    repeat: int
    messages_json: str
    budget_estimate: float = 0.0
    first: HeadCall | None = None  # its first attempt, sent ahead by the head start


def cap_output(text: str | None, max_bytes: int) -> tuple[str | None, bool]:
    """`text` cut to at most `max_bytes` of UTF-8 (at a character boundary), and whether it was."""
    if text is None or len(text) * 4 <= max_bytes:
        return text, False
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text, False
    return data[:max_bytes].decode("utf-8", "ignore"), True


def raw_without_output(raw: dict[str, Any] | None, text: str | None) -> dict[str, Any] | None:
    """The raw response with the answer's text left out: it is stored once, as the output."""
    return compact_raw(
        raw, text=text, tool_calls=None, finish_reason=None, prompt_tokens=None,
        completion_tokens=None,
    )  # fmt: skip


def cell_update(
    todo: CellTodo,
    result: Completion,
    attempts: int,
    started: datetime,
    max_output_bytes: int = MAX_OUTPUT_BYTES,
) -> dict[str, Any]:
    """The values a finished call stores on its cell (an `update(Cell)` row): the output
    cut at `max_output_bytes` (and marked), the raw response without what other columns hold."""
    # Only what no other column holds: storage.cell_raw_response puts the rest back for the trace.
    raw = compact_raw(
        result.raw,
        text=result.text,
        tool_calls=result.tool_calls or None,
        finish_reason=result.finish_reason,
        prompt_tokens=result.prompt_tokens,
        completion_tokens=result.completion_tokens,
    )
    output, truncated = cap_output(result.text, max_output_bytes)
    return {
        "id": todo.cell_id,
        "status": CellStatus.OK if result.ok else CellStatus.ERROR,
        "output": output,
        "output_truncated": truncated,
        "finish_reason": result.finish_reason,
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "cost_usd": result.cost_usd,
        "latency_ms": result.latency_ms,
        "ttft_ms": result.ttft_ms,
        "error_kind": result.error_kind,
        "error_message": result.error_message,
        "raw_response_json": _compact_json(raw) if raw is not None else None,
        "tool_calls_json": json.dumps(result.tool_calls) if result.tool_calls else None,
        "guardrail_json": json.dumps(result.guardrail) if result.guardrail else None,
        "cached": False,
        "attempts": attempts,
        "started_at": started,
        "finished_at": utcnow(),
    }


# datetimes and dataclasses go to `default=str`, as with json
_AS_JSON_DOES = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _compact_json(value: Any) -> str:
    """`value` as compact JSON text, as `json.dumps(value, default=str)` writes it but faster
    (a stored cell's raw response, every call); what orjson refuses (an int past 64 bits, a
    key that is not a string) goes through json."""
    try:
        return orjson.dumps(value, default=str, option=_AS_JSON_DOES).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, default=str, separators=(",", ":"))


def load_todo(ws: Workspace, run_id: int) -> tuple[list[Variant], list[CellTodo], float]:
    """The run's variants, its cells not yet ok (in row order), and what it has spent."""
    with db.session(ws) as s:
        variants = list(
            s.execute(
                select(Variant).where(VARIANT.c.run_id == run_id).order_by(VARIANT.c.position)
            ).scalars()
        )
        rows = s.execute(
            select(CELL.c.id, CELL.c.variant_id, CELL.c.repeat, payload_columns(CELL).messages)
            .where(CELL.c.run_id == run_id, CELL.c.status != CellStatus.OK)
            .order_by(CELL.c.row_index, CELL.c.repeat, CELL.c.variant_id)
        ).all()
        spent = s.execute(
            select(func.sum(CELL.c.cost_usd)).where(
                CELL.c.run_id == run_id, CELL.c.cached.is_(False)
            )
        ).scalar()
    todo = [CellTodo(r[0], r[1], r[2], r[3]) for r in rows]
    return variants, todo, float(spent or 0.0)
