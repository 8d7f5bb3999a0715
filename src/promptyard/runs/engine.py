"""The run engine: store a plan as a run, execute its cells, resume, cancel, report.

`create_run` stores a Run, its Variants and one pending Cell per call. `execute_run`
sends the run's unfinished cells through `providers.complete` with asyncio: a global
concurrency limit, per-model limits and rpm, retries with backoff that honour
Retry-After, a per-call timeout, a budget cap, the response cache and cancel. Finished
cells go to one writer task that stores them in batches; no transaction spans a call.
A killed or cancelled run resumes with only its missing or failed cells.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, case, func, select, text, update
from sqlmodel import Session

from promptyard.errors import NotFoundError, PromptyardError
from promptyard.runs.planning import (
    BUDGET_COMPLETION_BOUND,
    Estimate,
    PlanError,
    RunPlan,
    completion_bound,
    estimate,
    plan_run,
)
from promptyard.storage import db
from promptyard.storage.tables import Cell, CellStatus, Run, RunStatus, Variant, utcnow
from promptyard.workspace import Workspace

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from promptyard.models import Completion, ModelEndpoint

__all__ = [
    "INTERRUPTED",
    "Estimate",
    "RunPlan",
    "RunRequest",
    "VersionChoice",
    "RunProgress",
    "RunSummary",
    "cancel_run",
    "create_run",
    "effective_status",
    "estimate",
    "execute_run",
    "iter_results",
    "launch",
    "list_runs",
    "plan_run",
    "preview",
    "resume_in_background",
    "run_progress",
    "run_summary",
    "run_sync",
    "start_run_worker",
    "suggest_plan",
    "version_choices",
]

# Typed column access for queries (the SQLModel attributes read as plain values to mypy).
CELL = cast(Table, Cell.__table__)  # type: ignore[attr-defined]
VARIANT = cast(Table, Variant.__table__)  # type: ignore[attr-defined]
RUN = cast(Table, Run.__table__)  # type: ignore[attr-defined]

INTERRUPTED = "interrupted"  # shown for a 'running' run whose worker is gone
FLUSH_S = 0.5  # the writer stores, beats the heartbeat and polls cancel this often
STALE_AFTER_S = 30.0  # a heartbeat older than this, with no live worker pid: interrupted
WRITE_BATCH = 500
MAX_ATTEMPTS = 5
BACKOFF_BASE_S = 0.5
MAX_BACKOFF_S = 30.0
CANCEL_GRACE_S = 2.0
INSERT_CHUNK = 5_000


class RunBusyError(PromptyardError):
    """The run is already executing in a live process."""


# --------------------------------------------------------------------------------------
# Creating a run


def create_run(
    ws: Workspace,
    plan: RunPlan,
    concurrency: int = 8,
    max_cost: float | None = None,
    use_cache: bool = True,
) -> int:
    """Store the plan as a pending run (Run, Variants, one pending Cell per call).

    With `max_cost` the price of every model must be known, or the cap could not hold.
    """
    if concurrency < 1:
        raise PlanError(["concurrency must be at least 1"])
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
        )
        s.add(run)
        s.flush()
        assert run.id is not None
        variant_ids: list[int] = []
        for position, v in enumerate(plan.variants):
            row = Variant(
                run_id=run.id,
                position=position,
                prompt_name=v.prompt_name,
                prompt_sha=v.prompt_sha,
                prompt_version=v.prompt_version,
                template_text=v.template_text,
                model=v.model,
                parameters_json=json.dumps(v.parameters, sort_keys=True, default=str),
            )
            s.add(row)
            s.flush()
            assert row.id is not None
            variant_ids.append(row.id)
        # Built a chunk at a time: a 50,000-cell plan never holds every row dict at once.
        for start in range(0, len(plan.cells), INSERT_CHUNK):
            rows = [
                {
                    "run_id": run.id,
                    "variant_id": variant_ids[c.variant],
                    "row_id": c.row_id,
                    "row_index": c.row_index,
                    "repeat": c.repeat,
                    "inputs_json": c.inputs_json,
                    "reference": c.reference,
                    "messages_json": c.messages_json,
                    "status": CellStatus.PENDING,
                    "cached": False,
                    "attempts": 0,
                    "cache_key": c.cache_key,
                }
                for c in plan.cells[start : start + INSERT_CHUNK]
            ]
            s.execute(CELL.insert(), rows)
        return run.id

    return db.write(ws, store)


# --------------------------------------------------------------------------------------
# Reading runs


@dataclass
class RunSummary:
    """A run as a list or a CLI summary shows it; counts cover every execution."""

    run_id: int
    name: str
    kind: str
    status: str  # effective: a dead worker's 'running' run reads 'interrupted'
    created_at: datetime
    cells: int
    ok: int
    errors: int
    pending: int
    cached: int
    cost_usd: float  # spent by this run's own calls (cached cells cost nothing again)
    wall_s: float | None
    message: str | None
    dataset: str | None
    variants: list[str]
    max_cost_usd: float | None
    concurrency: int

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["id"] = self.run_id
        d["created_at"] = self.created_at.isoformat()
        return d


@dataclass
class RunProgress:
    """Live progress of a run for a progress bar."""

    run_id: int
    status: str
    total: int
    done: int
    ok: int
    errors: int
    cached: int
    cost_usd: float
    elapsed_s: float
    eta_s: float | None
    message: str | None
    cancel_requested: bool

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def pid_alive(pid: int | None) -> bool:
    """True when process `pid` exists on this machine and is not a zombie."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return True


def effective_status(run: Run) -> str:
    """The stored status, except a 'running' run whose worker died reads 'interrupted'."""
    if run.status != RunStatus.RUNNING:
        return run.status
    beat = _aware(run.heartbeat_at)
    fresh = beat is not None and utcnow() - beat < timedelta(seconds=STALE_AFTER_S)
    if run.worker_pid and not pid_alive(run.worker_pid):
        return INTERRUPTED
    if not run.worker_pid and not fresh:
        return INTERRUPTED
    if run.worker_pid and not fresh and beat is not None:
        # The pid may have been reused by another process after a crash.
        return INTERRUPTED if utcnow() - beat > timedelta(seconds=STALE_AFTER_S * 4) else run.status
    return run.status


def _get_run(s: Session, run_id: int) -> Run:
    run = s.get(Run, run_id)
    if run is None:
        raise NotFoundError(f"run {run_id} does not exist")
    return run


def _cell_counts(s: Session, run_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    if not run_ids:
        return {}
    is_cached = CELL.c.cached.is_(True)
    stmt = (
        select(
            CELL.c.run_id,
            func.count(),
            func.sum(case((CELL.c.status == CellStatus.OK, 1), else_=0)),
            func.sum(case((CELL.c.status == CellStatus.ERROR, 1), else_=0)),
            func.sum(case((is_cached, 1), else_=0)),
            func.sum(case((is_cached, 0.0), else_=func.coalesce(CELL.c.cost_usd, 0.0))),
        )
        .where(CELL.c.run_id.in_(run_ids))
        .group_by(CELL.c.run_id)
    )
    out: dict[int, dict[str, Any]] = {}
    for run_id, total, ok, errors, cached, cost in s.execute(stmt):
        out[run_id] = {
            "cells": int(total or 0),
            "ok": int(ok or 0),
            "errors": int(errors or 0),
            "cached": int(cached or 0),
            "cost": float(cost or 0.0),
        }
    return out


def _summaries(s: Session, runs: Sequence[Run]) -> list[RunSummary]:
    ids = [r.id for r in runs if r.id is not None]
    counts = _cell_counts(s, ids)
    variants: dict[int, list[str]] = {}
    if ids:
        for v in s.execute(
            select(Variant).where(VARIANT.c.run_id.in_(ids)).order_by(VARIANT.c.position)
        ).scalars():
            variants.setdefault(v.run_id, []).append(v.label)
    out = []
    for r in runs:
        assert r.id is not None
        c = counts.get(r.id, {"cells": 0, "ok": 0, "errors": 0, "cached": 0, "cost": 0.0})
        out.append(
            RunSummary(
                run_id=r.id,
                name=r.name,
                kind=r.kind,
                status=effective_status(r),
                created_at=_aware(r.created_at) or r.created_at,
                cells=c["cells"],
                ok=c["ok"],
                errors=c["errors"],
                pending=c["cells"] - c["ok"] - c["errors"],
                cached=c["cached"],
                cost_usd=c["cost"],
                wall_s=r.wall_s,
                message=r.message,
                dataset=r.dataset_name,
                variants=variants.get(r.id, []),
                max_cost_usd=r.max_cost_usd,
                concurrency=r.concurrency,
            )
        )
    return out


def run_summary(ws: Workspace, run_id: int) -> RunSummary:
    """Counts, spend, status and wall time of one run."""
    with db.session(ws) as s:
        return _summaries(s, [_get_run(s, run_id)])[0]


def list_runs(ws: Workspace, kind: str | None = "run", limit: int = 200) -> list[RunSummary]:
    """Runs newest first (kind None: every kind, playground runs too)."""
    with db.session(ws) as s:
        stmt = select(Run).order_by(RUN.c.id.desc()).limit(limit)
        if kind is not None:
            stmt = stmt.where(RUN.c.kind == kind)
        runs = list(s.execute(stmt).scalars())
        return _summaries(s, runs)


def run_progress(ws: Workspace, run_id: int) -> RunProgress:
    """Done/total, errors, spend, elapsed and an estimate of the time left."""
    with db.session(ws) as s:
        run = _get_run(s, run_id)
        c = _cell_counts(s, [run_id]).get(run_id, {"ok": 0, "errors": 0, "cached": 0, "cost": 0.0})
        status = effective_status(run)
        started = _aware(run.started_at)
        elapsed = float(run.wall_s or 0.0)
        if status == RunStatus.RUNNING and started is not None:
            elapsed += max(0.0, (utcnow() - started).total_seconds())
        done = c["ok"] + c["errors"]
        eta: float | None = None
        if status == RunStatus.RUNNING and done > c["cached"] and elapsed > 0:
            rate = (done - c["cached"]) / elapsed
            eta = (run.total_cells - done) / rate if rate > 0 else None
        return RunProgress(
            run_id=run_id,
            status=status,
            total=run.total_cells,
            done=done,
            ok=c["ok"],
            errors=c["errors"],
            cached=c["cached"],
            cost_usd=c["cost"],
            elapsed_s=elapsed,
            eta_s=eta,
            message=run.message,
            cancel_requested=run.cancel_requested,
        )


def cancel_run(ws: Workspace, run_id: int) -> None:
    """Ask the run's worker to stop; a run with no live worker is marked cancelled now."""

    def mark(s: Session) -> None:
        run = _get_run(s, run_id)
        run.cancel_requested = True
        if run.status == RunStatus.PENDING or effective_status(run) == INTERRUPTED:
            run.status = RunStatus.CANCELLED
            run.message = "cancelled"
            run.worker_pid = None
        s.add(run)

    db.write(ws, mark)


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
)


def iter_results(ws: Workspace, run_id: int, chunk: int = 2_000) -> Iterator[dict[str, Any]]:
    """Every cell of a run as a flat dict (RESULT_FIELDS), in variant/row/repeat order."""
    with db.session(ws) as s:
        _get_run(s, run_id)
        variants = {
            v.id: v for v in s.execute(select(Variant).where(VARIANT.c.run_id == run_id)).scalars()
        }
    last_id = 0
    while True:
        with db.session(ws) as s:
            cells = list(
                s.execute(
                    select(Cell)
                    .where(CELL.c.run_id == run_id, CELL.c.id > last_id)
                    .order_by(CELL.c.id)
                    .limit(chunk)
                ).scalars()
            )
        if not cells:
            return
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
            }
        last_id = cells[-1].id or last_id


# --------------------------------------------------------------------------------------
# Executing a run


class _RateLimiter:
    """Spaces calls to one model evenly at `rpm` requests per minute."""

    def __init__(self, rpm: int | None) -> None:
        self.interval = 60.0 / rpm if rpm else 0.0
        self.next_at = 0.0

    async def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        slot = max(now, self.next_at)
        self.next_at = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


class _Budget:
    """Reserve an upper-bound estimate before a call; settle with the real cost after."""

    def __init__(self, cap: float | None, spent: float) -> None:
        self.cap = cap
        self.spent = spent
        self.reserved = 0.0
        self.exhausted = False

    def reserve(self, amount: float) -> bool:
        if self.cap is None:
            return True
        if self.exhausted or self.spent + self.reserved + amount > self.cap:
            self.exhausted = True
            return False
        self.reserved += amount
        return True

    def settle(self, reserved: float, actual: float | None) -> None:
        if self.cap is not None:
            self.reserved -= reserved
        self.spent += actual or 0.0


@dataclass(slots=True)
class _Todo:
    cell_id: int
    variant_id: int
    repeat: int
    messages_json: str
    budget_estimate: float = 0.0


@dataclass
class _Lane:
    """One model's share of the run: its endpoint, limits and queue of cells."""

    endpoint: ModelEndpoint
    parameters: dict[int, dict[str, Any]]  # by variant id
    queue: deque[_Todo]
    limit: int
    limiter: _RateLimiter


def _error_completion(kind: str, message: str, latency_ms: float) -> Completion:
    from promptyard.models import Completion

    return Completion(
        text=None,
        finish_reason=None,
        prompt_tokens=None,
        completion_tokens=None,
        cost_usd=None,
        latency_ms=latency_ms,
        ttft_ms=None,
        error_kind=kind,
        error_message=message,
        raw=None,
    )


def _backoff(attempt: int, retry_after: float | None, base: float, cap: float) -> float:
    """Exponential backoff with full jitter; Retry-After is a floor, not a suggestion."""
    delay = random.uniform(base, base * (2**attempt))
    if retry_after is not None and retry_after >= 0:
        delay = max(retry_after + random.uniform(0, base / 2), min(delay, retry_after * 2))
    return min(delay, cap)


def _cell_update(
    todo: _Todo, result: Completion, attempts: int, started: datetime
) -> dict[str, Any]:
    raw = result.raw
    return {
        "id": todo.cell_id,
        "status": CellStatus.OK if result.ok else CellStatus.ERROR,
        "output": result.text,
        "finish_reason": result.finish_reason,
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "cost_usd": result.cost_usd,
        "latency_ms": result.latency_ms,
        "ttft_ms": result.ttft_ms,
        "error_kind": result.error_kind,
        "error_message": result.error_message,
        "raw_response_json": json.dumps(raw, default=str) if raw is not None else None,
        "cached": False,
        "attempts": attempts,
        "started_at": started,
        "finished_at": utcnow(),
    }


def _claim_run(ws: Workspace, run_id: int, reset_cancel: bool) -> Run:
    pid = os.getpid()

    def claim(s: Session) -> Run:
        run = _get_run(s, run_id)
        if (
            run.status == RunStatus.RUNNING
            and run.worker_pid not in (None, pid)
            and effective_status(run) == RunStatus.RUNNING
        ):
            raise RunBusyError(f"run {run_id} is already running in process {run.worker_pid}")
        if reset_cancel:
            run.cancel_requested = False
        run.status = RunStatus.RUNNING
        run.worker_pid = pid
        run.started_at = utcnow()
        run.heartbeat_at = utcnow()
        run.finished_at = None
        run.message = None
        s.add(run)
        return run

    return db.write(ws, claim)


_CACHE_COLUMNS = (
    "output",
    "finish_reason",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "latency_ms",
    "ttft_ms",
    "raw_response_json",
)


def _serve_from_cache(ws: Workspace, run_id: int) -> int:
    """Fill the run's unfinished cells from earlier ok cells with the same cache key.

    One statement (SQLite 3.33+ and PostgreSQL both have UPDATE ... FROM). The unary `+`
    keeps SQLite from driving the join by the run_id index (a scan per cache key).
    """
    sets = ", ".join(f"{c} = src.{c}" for c in _CACHE_COLUMNS)
    sql = text(
        f"""
        UPDATE cell SET {sets}, status = :ok, cached = :yes, attempts = 0,
               error_kind = NULL, error_message = NULL,
               started_at = :now, finished_at = :now
        FROM (
            SELECT cache_key AS key, MIN(id) AS id FROM cell
            WHERE status = :ok AND cache_key IN (
                SELECT cache_key FROM cell WHERE run_id = :run AND status != :ok
            )
            GROUP BY cache_key
        ) AS pick
        JOIN cell AS src ON src.id = pick.id
        WHERE cell.cache_key = pick.key AND +cell.run_id = :run AND cell.status != :ok
        """
    )
    now = utcnow()

    def apply(s: Session) -> int:
        result = s.execute(sql, {"ok": CellStatus.OK, "yes": True, "now": now, "run": run_id})
        return int(getattr(result, "rowcount", 0) or 0)

    return db.write(ws, apply)


def _load_todo(ws: Workspace, run_id: int) -> tuple[list[Variant], list[_Todo], float]:
    with db.session(ws) as s:
        variants = list(
            s.execute(
                select(Variant).where(VARIANT.c.run_id == run_id).order_by(VARIANT.c.position)
            ).scalars()
        )
        rows = s.execute(
            select(CELL.c.id, CELL.c.variant_id, CELL.c.repeat, CELL.c.messages_json)
            .where(CELL.c.run_id == run_id, CELL.c.status != CellStatus.OK)
            .order_by(CELL.c.row_index, CELL.c.repeat, CELL.c.variant_id)
        ).all()
        spent = s.execute(
            select(func.sum(CELL.c.cost_usd)).where(
                CELL.c.run_id == run_id, CELL.c.cached.is_(False)
            )
        ).scalar()
    todo = [_Todo(r[0], r[1], r[2], r[3]) for r in rows]
    return variants, todo, float(spent or 0.0)


@dataclass
class _Outcome:
    cancelled: bool = False
    budget_stopped: bool = False


async def execute_run(
    ws: Workspace,
    run_id: int,
    *,
    timeout_s: float = 60.0,
    max_attempts: int = MAX_ATTEMPTS,
    backoff_base_s: float = BACKOFF_BASE_S,
    max_backoff_s: float = MAX_BACKOFF_S,
    on_progress: Callable[[int, int], None] | None = None,
) -> RunSummary:
    """Send every unfinished cell of the run and store the results; return the summary.

    Only cells that are pending or failed are sent (a completed cell never is). Every
    sent cell ends ok or with an error kind; a failing provider never stops the run.
    `on_progress(done, total)` is called as cells are stored.
    """
    from promptyard.models import ModelCall, complete, resolve_model

    run = _claim_run(ws, run_id, reset_cancel=True)
    t0 = time.monotonic()
    outcome = _Outcome()
    try:
        if run.use_cache:
            await asyncio.to_thread(_serve_from_cache, ws, run_id)
        variants, todo, spent = await asyncio.to_thread(_load_todo, ws, run_id)
        total = run.total_cells
        done_before = total - len(todo)
        budget = _Budget(run.max_cost_usd, spent)

        lanes: dict[str, _Lane] = {}
        lane_of: dict[int, _Lane] = {}
        for v in variants:
            assert v.id is not None
            lane = lanes.get(v.model)
            if lane is None:
                endpoint = resolve_model(ws, v.model)
                limit = min(run.concurrency, endpoint.max_concurrency or run.concurrency)
                lane = _Lane(endpoint, {}, deque(), max(1, limit), _RateLimiter(endpoint.rpm))
                lanes[v.model] = lane
            lane.parameters[v.id] = json.loads(v.parameters_json or "{}")
            lane_of[v.id] = lane
        if budget.cap is not None:
            _price_todo(todo, lane_of)
        for item in todo:
            lane_of[item.variant_id].queue.append(item)
        del todo

        results: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=WRITE_BATCH * 4)
        stop = asyncio.Event()
        global_slots = asyncio.Semaphore(max(1, run.concurrency))
        stored = done_before

        async def call_once(lane: _Lane, item: _Todo) -> Completion:
            call = ModelCall(
                endpoint=lane.endpoint,
                messages=json.loads(item.messages_json),
                parameters=lane.parameters[item.variant_id],
                repeat=item.repeat,
                timeout_s=timeout_s,
            )
            t = time.monotonic()
            try:
                # A safety net over the provider's own timeout: a call never hangs a run.
                async with asyncio.timeout(timeout_s + 5.0):  # no extra task per call
                    return await complete(call)
            except TimeoutError:
                return _error_completion(
                    "timeout", f"no answer within {timeout_s:g} s", (time.monotonic() - t) * 1000
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a provider bug must not abort the run
                return _error_completion(
                    "invalid_response",
                    f"{type(exc).__name__}: {_scrub(str(exc), lane.endpoint, ws)}"[:500],
                    (time.monotonic() - t) * 1000,
                )

        async def process(lane: _Lane, item: _Todo) -> None:
            started = utcnow()
            attempts = 0
            result: Completion | None = None
            while True:
                await lane.limiter.wait()
                async with global_slots:
                    attempts += 1
                    result = await call_once(lane, item)
                if result.ok or not result.retryable or attempts >= max_attempts or stop.is_set():
                    break
                await asyncio.sleep(
                    _backoff(attempts - 1, result.retry_after_s, backoff_base_s, max_backoff_s)
                )
            budget.settle(item.budget_estimate, result.cost_usd if result.ok else None)
            await results.put(_cell_update(item, result, attempts, started))

        async def lane_worker(lane: _Lane) -> None:
            while lane.queue and not stop.is_set():
                item = lane.queue[0]
                if not budget.reserve(item.budget_estimate):
                    outcome.budget_stopped = True
                    stop.set()
                    return
                lane.queue.popleft()
                await process(lane, item)

        async def writer() -> None:
            nonlocal stored
            batch: list[dict[str, Any]] = []
            flush_at = time.monotonic() + FLUSH_S
            finished = False
            while True:
                wait = flush_at - time.monotonic()
                if not finished and wait > 0 and len(batch) < WRITE_BATCH:
                    try:
                        item = await asyncio.wait_for(results.get(), wait)
                    except TimeoutError:
                        pass
                    else:
                        if item is None:
                            finished = True
                        else:
                            batch.append(item)
                            continue
                cancel = await asyncio.to_thread(_flush, ws, run_id, batch)
                stored += len(batch)
                batch = []
                flush_at = time.monotonic() + FLUSH_S
                if on_progress is not None:
                    on_progress(stored, total)
                if cancel and not outcome.cancelled:
                    outcome.cancelled = True
                    stop.set()
                if finished:
                    return

        writer_task = asyncio.create_task(writer())
        workers = [
            asyncio.create_task(lane_worker(lane))
            for lane in lanes.values()
            for _ in range(min(lane.limit, max(1, len(lane.queue))))
        ]
        if workers:
            pending = set(workers)
            while pending:
                _, pending = await asyncio.wait(pending, timeout=0.2)
                if writer_task.done() and pending:
                    # The writer failed (the database went away): nothing more can be
                    # stored, so stop sending and report its error.
                    for task in pending:
                        task.cancel()
                    await asyncio.gather(*pending, return_exceptions=True)
                    writer_task.result()
                if outcome.cancelled and pending:
                    # Give calls in flight a moment, then drop them: their cells stay pending.
                    _, pending = await asyncio.wait(pending, timeout=CANCEL_GRACE_S)
                    for task in pending:
                        task.cancel()
                    await asyncio.gather(*pending, return_exceptions=True)
                    pending = set()
        await results.put(None)
        await writer_task
    except BaseException as exc:
        # Synchronous on purpose: the loop may be cancelling us (Ctrl-C).
        interrupted = isinstance(exc, KeyboardInterrupt | asyncio.CancelledError)
        try:
            _finish(
                ws,
                run_id,
                time.monotonic() - t0,
                RunStatus.CANCELLED if interrupted else RunStatus.FAILED,
                _failure_message(exc),
            )
        except Exception:  # the database itself failed: the run reads interrupted later
            pass
        raise
    status, message = _final_state(outcome, budget)
    await asyncio.to_thread(_finish, ws, run_id, time.monotonic() - t0, status, message)
    if status == RunStatus.COMPLETED:
        await _score_finished(ws, run_id)
    from promptyard.reading.analytics import refresh_variant_stats  # the dashboard's summaries

    await asyncio.to_thread(refresh_variant_stats, ws, run_id)
    return run_summary(ws, run_id)


async def _score_finished(ws: Workspace, run_id: int) -> None:
    """Grade a completed run with the code-only suites that fit it; never fails the run."""
    from promptyard.evals.scoring import score_finished_run

    try:
        await score_finished_run(ws, run_id)
    except Exception as exc:  # a broken suite must not turn a finished run into a failure
        log.warning("run %s: scoring after the run failed: %s", run_id, exc)


def _failure_message(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt | asyncio.CancelledError):
        return "interrupted; resume it to send the remaining cells"
    return f"stopped by an error: {type(exc).__name__}: {str(exc)[:300]}"


def _final_state(outcome: _Outcome, budget: _Budget) -> tuple[str, str | None]:
    if outcome.cancelled:
        return RunStatus.CANCELLED, "cancelled"
    if outcome.budget_stopped:
        return (
            RunStatus.CANCELLED,
            f"stopped by the budget cap: ${budget.spent:.4f} spent of ${budget.cap:.4f}; "
            "the remaining cells were not sent",
        )
    return RunStatus.COMPLETED, None


def _price_todo(todo: list[_Todo], lane_of: dict[int, _Lane]) -> None:
    """An upper bound of each cell's cost: its prompt tokens and the completion bound."""
    from promptyard.models import estimate_cost
    from promptyard.prompts.tokens import count_tokens

    memo: dict[tuple[str, int], float] = {}
    for item in todo:
        lane = lane_of[item.variant_id]
        key = (item.messages_json, item.variant_id)
        cost = memo.get(key)
        if cost is None:
            params = lane.parameters[item.variant_id]
            prompt = count_tokens(json.loads(item.messages_json), lane.endpoint.litellm_model)
            # A margin over tiktoken's count: providers count chat framing differently.
            prompt = int(prompt * 1.1) + 16
            bound = completion_bound(params, BUDGET_COMPLETION_BOUND)
            cost = estimate_cost(lane.endpoint, prompt, bound) or 0.0
            memo[key] = cost
        item.budget_estimate = cost


def _scrub(message: str, endpoint: ModelEndpoint, ws: Workspace) -> str:
    try:
        from promptyard.models import api_key, scrub

        key = api_key(endpoint, ws)
        return scrub(message, [key] if key else [])
    except Exception:
        return message


def _flush(ws: Workspace, run_id: int, batch: list[dict[str, Any]]) -> bool:
    """Store a batch of finished cells and beat the heartbeat; return cancel_requested."""

    def apply(s: Session) -> bool:
        if batch:
            s.execute(update(Cell), batch)
        s.execute(update(Run).where(RUN.c.id == run_id).values(heartbeat_at=utcnow()))
        return bool(s.execute(select(RUN.c.cancel_requested).where(RUN.c.id == run_id)).scalar())

    return db.write(ws, apply)


def _finish(ws: Workspace, run_id: int, elapsed: float, status: str, message: str | None) -> None:
    def apply(s: Session) -> None:
        run = _get_run(s, run_id)
        run.status = status
        run.message = message
        run.finished_at = utcnow()
        run.wall_s = (run.wall_s or 0.0) + elapsed
        run.worker_pid = None
        run.heartbeat_at = utcnow()
        if status == RunStatus.COMPLETED:
            errors = s.execute(
                select(func.count()).where(
                    CELL.c.run_id == run_id, CELL.c.status == CellStatus.ERROR
                )
            ).scalar()
            if errors:
                run.message = f"{errors} cell(s) ended with an error; resume to retry them"
        s.add(run)

    db.write(ws, apply)


def run_sync(ws: Workspace, run_id: int, **kwargs: Any) -> RunSummary:
    """`execute_run` for callers without an event loop (CLI, worker process)."""
    return asyncio.run(execute_run(ws, run_id, **kwargs))


def start_run_worker(ws: Workspace, run_id: int) -> int:
    """Execute the run in a detached child process; return its pid.

    The run outlives the caller (a Streamlit script run, a page reload): progress is in
    the database, and the child's output goes to `.promptyard/logs/run-ID.log`.
    """
    from promptyard.runs.worker import spawn

    return spawn(ws, run_id)


# --------------------------------------------------------------------------------------
# One call for a page or a script: plan, price, store and start in the background


@dataclass
class RunRequest:
    """What a person picks on the Runs page; `preview` prices it, `launch` starts it."""

    prompts: list[tuple[str, str | None]]
    models: list[str]
    dataset: tuple[str, str | None]
    slice: str | None = None  # a datasets SliceSpec text: "head:20", "random:50:7", ...
    repeats: int = 1
    concurrency: int = 8
    max_cost: float | None = None
    use_cache: bool = True
    name: str = ""

    def plan(self, ws: Workspace) -> RunPlan:
        return plan_run(
            ws,
            self.prompts,
            self.models,
            self.dataset,
            slice=self.slice,
            repeats=self.repeats,
            name=self.name,
        )


def preview(ws: Workspace, request: RunRequest) -> Estimate:
    """The estimate of a request's plan; raises PlanError listing every problem."""
    return estimate(request.plan(ws), request.concurrency)


def launch(ws: Workspace, request: RunRequest) -> int:
    """Plan, store and start the run in a worker process; return the run id."""
    run_id = create_run(
        ws,
        request.plan(ws),
        concurrency=request.concurrency,
        max_cost=request.max_cost,
        use_cache=request.use_cache,
    )
    start_run_worker(ws, run_id)
    return run_id


def resume_in_background(ws: Workspace, run_id: int) -> int:
    """Start a worker that sends the run's missing and failed cells; return its pid."""
    return start_run_worker(ws, run_id)


@dataclass(frozen=True)
class VersionChoice:
    """A prompt version a run can use: `spec` is NAME@vN, `label` what a picker shows."""

    spec: str
    label: str


def version_choices(ws: Workspace) -> list[VersionChoice]:
    """Every saved version of every prompt, newest first within a prompt."""
    from promptyard import prompts

    out: list[VersionChoice] = []
    for summary in prompts.list_prompts(ws):
        if summary.error or not summary.versions:
            continue
        history = prompts.prompt_history(summary.name, workspace=ws)
        live = [v for v in history if not v.deleted]
        for v in reversed(live):
            latest = " (latest)" if v is live[-1] else ""
            labels = f" [{', '.join(v.labels)}]" if v.labels else ""
            out.append(
                VersionChoice(
                    f"{summary.name}@v{v.number}",
                    f"{summary.name} v{v.number}{latest}{labels} · {v.message[:40]}",
                )
            )
    return out


def suggest_plan(ws: Workspace) -> tuple[str | None, str | None]:
    """A prompt version (NAME@vN) and a dataset whose columns give every variable it needs.

    The New run form starts from it, so a newcomer's first plan can run as it is.
    """
    from promptyard import datasets, prompts

    infos = datasets.list_datasets(ws)
    choices = version_choices(ws)
    latest: dict[str, str] = {}
    for c in choices:
        latest.setdefault(c.spec.split("@", 1)[0], c.spec)
    for summary in prompts.list_prompts(ws):
        spec = latest.get(summary.name)
        if spec is None or summary.error:
            continue
        for info in infos:
            if set(summary.variables) <= set(info.columns):
                return spec, info.name
    return (choices[0].spec if choices else None), (infos[0].name if infos else None)
