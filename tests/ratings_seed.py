"""Seed runs straight into the database, for tests and benchmarks of Compare and Rate.

    from tests.ratings_seed import seed_run
    seeded = seed_run(ws, rows=5, variants=[("summarize", 1, "sim-fast"), ("summarize", 2, "sim-smart")])
    seeded.run_id, seeded.variant_ids, seeded.cell(row_index=0, variant=0).id

Outputs come from `output(row_index, variant_index, repeat)` (default: a sentence that
differs per variant); `errors` lists (row_index, variant_index) pairs that failed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import insert
from sqlmodel import Session, select

from promptyard.storage import db
from promptyard.storage.tables import Cell, Run, RunStatus, Variant
from promptyard.storage.tables_payloads import RunMessage, RunRow
from promptyard.workspace import Workspace

DEFAULT_VARIANTS = (("summarize", 1, "sim-fast"), ("summarize", 2, "sim-smart"))


def default_output(row: int, variant: int, repeat: int) -> str:
    tone = ["The customer", "A user", "The client", "Someone", "The buyer", "A person"][variant % 6]
    return f"{tone} reports problem number {row} with the order and asks for a refund."


@dataclass
class SeededRun:
    run_id: int
    variant_ids: list[int]
    row_ids: list[str]
    cells: dict[tuple[int, int, int], int] = field(
        default_factory=dict
    )  # (row, variant, repeat) -> id

    def cell_id(self, row: int, variant: int = 0, repeat: int = 0) -> int:
        return self.cells[(row, variant, repeat)]


def seed_run(
    ws: Workspace,
    rows: int = 5,
    variants: Sequence[tuple[str, int | None, str]] = DEFAULT_VARIANTS,
    repeats: int = 1,
    output: Callable[[int, int, int], str | None] = default_output,
    errors: Iterable[tuple[int, int]] = (),
    dataset: str = "tickets",
    prompt_shas: Sequence[str | None] | None = None,
    name: str = "seeded run",
    shared: bool = False,
) -> SeededRun:
    """A completed run with `rows` x `variants` x `repeats` cells, written in one go.

    With `shared`, as runs store them since m024: each row's inputs and reference once in
    run_row, its messages once in run_message (every variant in template group 0), the
    cells without copies; else each cell with its own (as before m024)."""
    failed = set(errors)
    now = datetime.now(UTC)

    def _write(s: Session) -> SeededRun:
        run = Run(
            name=name,
            status=RunStatus.COMPLETED,
            dataset_name=dataset,
            repeats=repeats,
            total_cells=rows * len(variants) * repeats,
            started_at=now,
            finished_at=now,
        )
        s.add(run)
        s.flush()
        assert run.id is not None
        variant_ids = []
        for position, (prompt, version, model) in enumerate(variants):
            sha = prompt_shas[position] if prompt_shas else None
            v = Variant(
                run_id=run.id,
                position=position,
                prompt_name=prompt,
                prompt_version=version,
                prompt_sha=sha,
                model=model,
                parameters_json=json.dumps({"temperature": 0}),
                template=0 if shared else None,
            )
            s.add(v)
            s.flush()
            assert v.id is not None
            variant_ids.append(v.id)
        row_ids = [f"r{i:05d}" for i in range(rows)]
        records = []
        shared_rows: list[dict[str, object]] = []
        shared_messages: list[dict[str, object]] = []
        for i, row_id in enumerate(row_ids):
            inputs = {"ticket": f"Ticket {i}: my order #{i} arrived broken, please help."}
            reference = f"Refund for broken order {i}."
            messages = json.dumps(
                [
                    {"role": "system", "content": "Summarize the ticket."},
                    {"role": "user", "content": inputs["ticket"]},
                ]
            )
            if shared:
                key = {"run_id": run.id, "row_index": i}
                shared_rows.append(
                    {
                        **key,
                        "row_id": row_id,
                        "inputs_json": json.dumps(inputs),
                        "reference": reference,
                    }
                )
                shared_messages.append({**key, "template": 0, "messages_json": messages})
            for vi, vid in enumerate(variant_ids):
                for rep in range(repeats):
                    bad = (i, vi) in failed
                    text = None if bad else output(i, vi, rep)
                    records.append(
                        {
                            "run_id": run.id,
                            "variant_id": vid,
                            "row_id": row_id,
                            "row_index": i,
                            "repeat": rep,
                            "inputs_json": "" if shared else json.dumps(inputs),
                            "reference": None if shared else reference,
                            "messages_json": "" if shared else messages,
                            "status": "error" if bad else "ok",
                            "output": text,
                            "finish_reason": None if bad else "stop",
                            "prompt_tokens": 20,
                            "completion_tokens": None if bad else 12,
                            "cost_usd": None if bad else 0.00002 * (vi + 1),
                            "latency_ms": 100.0 + 10 * vi + i % 7,
                            "error_kind": "rate_limit" if bad else None,
                            "error_message": "429 Too Many Requests" if bad else None,
                            "raw_response_json": None
                            if bad
                            else json.dumps({"choices": [{"message": {"content": text}}]}),
                            "cached": False,
                            "attempts": 3 if bad else 1,
                            "started_at": now,
                            "finished_at": now,
                        }
                    )
        for start in range(0, len(records), 5000):
            s.execute(insert(Cell), records[start : start + 5000])
        for table, values in ((RunRow, shared_rows), (RunMessage, shared_messages)):
            for start in range(0, len(values), 5000):
                s.execute(insert(table), values[start : start + 5000])
        seeded = SeededRun(run.id, variant_ids, row_ids)
        for cell_id, row_index, variant_id, rep in s.exec(
            select(Cell.id, Cell.row_index, Cell.variant_id, Cell.repeat).where(
                Cell.run_id == run.id
            )
        ).all():
            seeded.cells[(row_index, variant_ids.index(variant_id), rep)] = int(cell_id)
        return seeded

    return db.write(ws, _write)
