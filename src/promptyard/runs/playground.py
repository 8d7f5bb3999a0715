"""The playground: one set of inputs, 2 to 6 columns (a prompt version or an edit, a
model, its parameters), sent at once and streamed side by side; in chat mode each column
keeps its own conversation.

`start_playground` renders every column first (every missing variable reported, nothing
sent) and streams the answers in a background thread, one task per column;
`playground_snapshot` reads the text so far, for a page to poll. A call is not a run: it
takes no run id and stays out of Runs, Compare and Rate; its columns are kept in the
`playground_call` table, and `save_playground_run` makes it a run when the user asks.
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
from typing import TYPE_CHECKING, Any

from promptyard.errors import PromptyardError
from promptyard.guardrails import Policies, RunGuard, guardrail_line, load_policies
from promptyard.runs.planning import (
    PlanError,
    RowInput,
    RunPlan,
    VariantSpec,
    build_plan,
    cache_key,
    require_keys,
)
from promptyard.runs.sending import provider_bug_completion
from promptyard.storage.tables import RunKind, utcnow
from promptyard.workspace import Workspace

if TYPE_CHECKING:
    from promptyard.models import Completion

log = logging.getLogger(__name__)

MIN_COLUMNS, MAX_COLUMNS = 2, 6
_KEEP_SESSIONS = 50
_ROLES = ("user", "assistant")


@dataclass(frozen=True)
class PlaygroundColumn:
    """One column: prompt `name` at `ref` (None: latest), or `text` (an unsaved edit).

    `history` is the column's conversation so far (chat mode): user and assistant turns
    sent after the prompt's own messages.
    """

    prompt: str
    model: str
    ref: str | None = None
    text: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    history: tuple[dict[str, str], ...] = ()


@dataclass
class ColumnOutput:
    """What one column shows: streamed text so far, then the finished call's numbers.

    `turns` is the column's conversation including this call (its history, the message
    sent, and the answer once done), for the next chat turn.
    """

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
    turns: list[dict[str, str]] = field(default_factory=list)


@dataclass
class PlaygroundSnapshot:
    """A playground call as it is now; `saved_run_id` once saved as a run."""

    session_id: str
    columns: list[ColumnOutput]
    finished: bool
    elapsed_s: float
    inputs: dict[str, Any] = field(default_factory=dict)
    message: str | None = None
    saved_run_id: int | None = None


class _Session:
    def __init__(
        self, session_id: str, plan: RunPlan, inputs: dict[str, Any], message: str | None
    ) -> None:
        self.id = session_id
        self.plan = plan
        self.inputs = inputs
        self.message = message
        self.guard: RunGuard | None = None  # the policy every column's call goes through
        self.columns: list[ColumnOutput] = []
        self.results: list[Completion | None] = [None] * len(plan.cells)
        self.started = time.monotonic()
        self.started_at = utcnow()
        self.ended: float | None = None
        self.saved_run_id: int | None = None
        self.lock = threading.Lock()

    def snapshot(self) -> PlaygroundSnapshot:
        with self.lock:
            cols = [ColumnOutput(**{**vars(c), "turns": list(c.turns)}) for c in self.columns]
            end = self.ended or time.monotonic()
            return PlaygroundSnapshot(
                self.id,
                cols,
                self.ended is not None,
                end - self.started,
                dict(self.inputs),
                self.message,
                self.saved_run_id,
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


def _check_history(history: Sequence[dict[str, str]], where: str) -> list[dict[str, str]]:
    out = []
    for n, turn in enumerate(history, 1):
        role, content = turn.get("role"), turn.get("content")
        if role not in _ROLES or not isinstance(content, str):
            raise PlanError([f"{where}: turn {n} must be a user or assistant message with text"])
        out.append({"role": role, "content": content})
    return out


def start_playground(
    ws: Workspace,
    columns: Sequence[PlaygroundColumn],
    inputs: dict[str, Any],
    timeout_s: float = 120.0,
    message: str | None = None,
    guardrails: str | None = None,
    policies: Policies | None = None,
) -> str:
    """Render every column with `inputs`, then stream all of them at once; return an id.

    With `message` (chat mode) each column sends its prompt's messages, its `history`, then
    `message` as a user turn. Raises PlanError (every missing variable of every column, a
    bad parameter, a missing key) before anything is sent. With `guardrails` (a
    guardrails.yaml policy) every column's call goes through it; `policies` is
    guardrails.yaml as the caller already read it (the page's policy picker), else it is
    read here, once.
    """
    from promptyard.models import resolve_model

    if not MIN_COLUMNS <= len(columns) <= MAX_COLUMNS:
        raise PlanError([f"the playground compares {MIN_COLUMNS} to {MAX_COLUMNS} columns"])
    if message is not None and not message.strip():
        raise PlanError(["the chat message is empty"])
    specs = []
    histories = []
    for n, column in enumerate(columns, 1):
        template, edit = _template(ws, column)
        version = getattr(template, "version", None)
        histories.append(_check_history(column.history, f"column {n}"))
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
    plan.name = "playground"
    plan.cells = list(plan.cells)  # a few cells, held: a chat turn rewrites their messages
    require_keys(ws, [v.endpoint for v in plan.variants])
    guard = None
    if guardrails:
        # guardrails.yaml read once per call: an unknown policy is refused before anything is
        # sent, and the policy found here is the one every column's call goes through.
        found = policies if policies is not None else load_policies(ws)
        guard = RunGuard(ws, found.get(guardrails), found.warning)
    session = _Session(uuid.uuid4().hex[:12], plan, dict(inputs), message)
    session.guard = guard
    for cell in plan.cells:
        variant = plan.variants[cell.variant]
        turns = list(histories[cell.variant])
        if message is not None:
            turns.append({"role": "user", "content": message})
            sent = json.loads(cell.messages_json) + turns
            cell.messages_json = json.dumps(sent, ensure_ascii=False)
            cell.cache_key = cache_key(
                variant.endpoint, cell.messages_json, variant.parameters, cell.repeat
            )
        out = ColumnOutput(variant.label, simulated=variant.endpoint.simulated, turns=turns)
        session.columns.append(out)
    with _sessions_lock:
        _sessions[session.id] = session
        while len(_sessions) > _KEEP_SESSIONS:
            _sessions.pop(next(iter(_sessions)))
    thread = threading.Thread(
        target=lambda: asyncio.run(_stream_all(ws, session, timeout_s)),
        name=f"playground-{session.id}",
        daemon=True,
    )
    thread.start()
    return session.id


async def _stream_all(ws: Workspace, session: _Session, timeout_s: float) -> None:
    from promptyard.models import ModelCall, complete
    from promptyard.runs.playground_store import record_calls

    plan = session.plan
    guard = session.guard

    async def one(index: int) -> None:
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
            session.results[index] = result
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
            if session.message is not None and result.ok:
                out.turns.append({"role": "assistant", "content": out.text})

    try:
        await asyncio.gather(*(one(i) for i in range(len(plan.cells))))
    finally:
        ended = time.monotonic()
        # Finished only once stored: "Save as run" and scripts read the stored calls.
        try:
            record_calls(
                ws, session.id, plan, session.inputs, list(session.results), session.started_at
            )
        except PromptyardError as exc:  # the columns already show the answers
            log.warning("playground %s: could not store its calls: %s", session.id, exc)
        finally:
            with session.lock:
                session.ended = ended


def _session(session_id: str) -> _Session | None:
    with _sessions_lock:
        return _sessions.get(session_id)


def playground_snapshot(session_id: str) -> PlaygroundSnapshot | None:
    """The columns of a playground call as they are now; None for an unknown id."""
    session = _session(session_id)
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


def save_playground_run(ws: Workspace, session_id: str) -> int:
    """Store a finished playground call as a run (kind "playground"); return its id.

    The run shows in Compare and Rate like any other. Saving twice returns the same run.
    Raises PromptyardError for an unknown or unfinished call.
    """
    from promptyard.runs.playground_store import store_as_run

    session = _session(session_id)
    if session is None:
        raise PromptyardError(f"no playground call {session_id!r} (it was left behind)")
    with session.lock:
        if session.ended is None:
            raise PromptyardError("the playground call is still streaming; save it once done")
        if session.saved_run_id is not None:
            return session.saved_run_id
        results = list(session.results)
    run_id = store_as_run(ws, session.id, session.plan, results, session.started_at)
    with session.lock:
        session.saved_run_id = run_id
    return run_id
