"""The playground: one set of inputs, 2 to 6 columns (a prompt version or an edit, a
model), sent at once and streamed side by side.

`start_playground` renders every column first (every missing variable reported, nothing
sent), stores the call as a small run of kind "playground", and streams the answers in a
background thread; `playground_snapshot` reads the text so far, for a page to poll.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from promptyard.errors import PromptyardError
from promptyard.guardrails import guardrail_line, load_policy, load_run_guard
from promptyard.runs.planning import PlanError, RowInput, RunPlan, VariantSpec, build_plan
from promptyard.runs.records import (
    CellTodo,
    cell_update,
    create_run,
    provider_bug_completion,
)
from promptyard.runs.state import CELL, finish_run, get_run
from promptyard.storage import db
from promptyard.storage.tables import Cell, RunKind, RunStatus, utcnow
from promptyard.workspace import Workspace

log = logging.getLogger(__name__)

MIN_COLUMNS, MAX_COLUMNS = 2, 6
_KEEP_SESSIONS = 50


@dataclass(frozen=True)
class PlaygroundColumn:
    """One column: prompt `name` at `ref` (None: latest), or `text` (an unsaved edit)."""

    prompt: str
    model: str
    ref: str | None = None
    text: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class ColumnOutput:
    """What one column shows: streamed text so far, then the finished call's numbers."""

    label: str
    text: str = ""
    done: bool = False
    error_kind: str | None = None
    error_message: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    simulated: bool = False
    guardrail: str | None = None  # what the guardrail policy did, one line


@dataclass
class PlaygroundSnapshot:
    session_id: str
    run_id: int
    columns: list[ColumnOutput]
    finished: bool
    elapsed_s: float


class _Session:
    def __init__(self, session_id: str, run_id: int, columns: list[ColumnOutput]) -> None:
        self.id = session_id
        self.run_id = run_id
        self.columns = columns
        self.started = time.monotonic()
        self.ended: float | None = None
        self.lock = threading.Lock()

    def snapshot(self) -> PlaygroundSnapshot:
        with self.lock:
            cols = [ColumnOutput(**vars(c)) for c in self.columns]
            end = self.ended or time.monotonic()
            return PlaygroundSnapshot(
                self.id, self.run_id, cols, self.ended is not None, end - self.started
            )


_sessions: dict[str, _Session] = {}
_sessions_lock = threading.Lock()


def _template(ws: Workspace, column: PlaygroundColumn) -> tuple[Any, str | None]:
    from promptyard.prompts import parse_prompt
    from promptyard.prompts.api import get_prompt

    if column.text is not None:
        # ${file:...} references read from the workspace's prompts folder, inside it.
        text = column.text
        return parse_prompt(text, column.prompt, base_dir=ws.prompts_dir, root=ws.root), text
    return get_prompt(column.prompt, ref=column.ref, workspace=ws), None


def start_playground(
    ws: Workspace,
    columns: Sequence[PlaygroundColumn],
    inputs: dict[str, Any],
    timeout_s: float = 120.0,
    guardrails: str | None = None,
) -> str:
    """Render every column with `inputs`, then stream all of them at once; return an id.

    Raises PlanError (every missing variable of every column) before anything is sent.
    With `guardrails` (a guardrails.yaml policy) every column's call goes through it.
    """
    from promptyard.models import resolve_model

    if not MIN_COLUMNS <= len(columns) <= MAX_COLUMNS:
        raise PlanError([f"the playground compares {MIN_COLUMNS} to {MAX_COLUMNS} columns"])
    specs = []
    for column in columns:
        template, edit = _template(ws, column)
        version = getattr(template, "version", None)
        specs.append(
            VariantSpec(
                template=template,
                endpoint=resolve_model(ws, column.model),
                parameters=dict(column.parameters),
                prompt_name=column.prompt,
                prompt_sha=None if edit is not None else getattr(version, "sha", None),
                prompt_version=None if edit is not None else getattr(version, "number", None),
                template_text=edit,
            )
        )
    plan = build_plan(specs, [RowInput("playground", dict(inputs))], kind=RunKind.PLAYGROUND)
    plan.name, plan.guardrails = "playground", guardrails
    if guardrails:
        load_policy(ws, guardrails)  # an unknown policy is refused before anything is stored
    run_id = create_run(ws, plan, concurrency=len(columns), use_cache=False)
    outputs = [ColumnOutput(v.label, simulated=v.endpoint.simulated) for v in plan.variants]
    session = _Session(uuid.uuid4().hex[:12], run_id, outputs)
    with _sessions_lock:
        _sessions[session.id] = session
        while len(_sessions) > _KEEP_SESSIONS:
            _sessions.pop(next(iter(_sessions)))
    thread = threading.Thread(
        target=lambda: asyncio.run(_stream_all(ws, session, plan, timeout_s)),
        name=f"playground-{session.id}",
        daemon=True,
    )
    thread.start()
    return session.id


async def _stream_all(ws: Workspace, session: _Session, plan: RunPlan, timeout_s: float) -> None:
    from promptyard.models import ModelCall, complete

    def cell_ids(s: Session) -> list[int]:
        rows = s.execute(
            select(CELL.c.id).where(CELL.c.run_id == session.run_id).order_by(CELL.c.variant_id)
        )
        return [r[0] for r in rows]

    with db.session(ws) as s:
        ids = cell_ids(s)
        guard = load_run_guard(ws, get_run(s, session.run_id))
    started = utcnow()

    async def one(index: int) -> dict[str, Any]:
        cell = plan.cells[index]
        variant = plan.variants[cell.variant]
        out = session.columns[index]

        def on_delta(piece: str) -> None:
            with session.lock:
                out.text += piece

        call = ModelCall(
            endpoint=variant.endpoint,
            messages=json.loads(cell.messages_json),
            parameters=variant.parameters,
            timeout_s=timeout_s,
            stream=True,
        )
        try:
            if guard is not None:  # the answer arrives whole: nothing unchecked streams
                result = await guard.complete(call, -1)
            else:
                result = await complete(call, on_delta=on_delta)
        except Exception as exc:  # a provider bug shows in its column, not as a crash
            result = provider_bug_completion(exc, variant.endpoint, ws, 0.0)
        with session.lock:
            if result.text is not None:
                out.text = result.text
            out.done = True
            out.error_kind = result.error_kind
            out.error_message = result.error_message
            out.prompt_tokens = result.prompt_tokens
            out.completion_tokens = result.completion_tokens
            out.cost_usd = result.cost_usd
            out.latency_ms = result.latency_ms
            out.ttft_ms = result.ttft_ms
            out.guardrail = guardrail_line(result.guardrail)
        return cell_update(CellTodo(ids[index], 0, 0, ""), result, 1, started)

    t0 = time.monotonic()
    updates = await asyncio.gather(*(one(i) for i in range(len(plan.cells))))
    try:
        db.write(ws, lambda s: s.execute(update(Cell), list(updates)))
        finish_run(ws, session.run_id, time.monotonic() - t0, RunStatus.COMPLETED, None)
    except PromptyardError as exc:  # the columns already show the answers
        log.warning("playground %s: could not store its run: %s", session.id, exc)
    finally:
        with session.lock:
            session.ended = time.monotonic()


def playground_snapshot(session_id: str) -> PlaygroundSnapshot | None:
    """The columns of a playground call as they are now; None for an unknown id."""
    with _sessions_lock:
        session = _sessions.get(session_id)
    return session.snapshot() if session else None


def wait_playground(session_id: str, timeout_s: float = 120.0) -> PlaygroundSnapshot:
    """Block until every column has finished (scripts and tests)."""
    deadline = time.monotonic() + timeout_s
    while True:
        snap = playground_snapshot(session_id)
        if snap is None:
            raise PromptyardError(f"no playground call {session_id!r}")
        if snap.finished or time.monotonic() > deadline:
            return snap
        time.sleep(0.05)
