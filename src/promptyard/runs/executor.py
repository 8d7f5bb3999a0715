"""Executing a run: send its unfinished cells, store them in batches, finish the run.

`execute_run` sends the run's unfinished cells through `providers.complete` with asyncio:
a global concurrency limit, per-model limits and rpm, retries with backoff that honour
Retry-After, a per-call timeout, a budget cap, the response cache and cancel. Finished
cells go to one writer task that stores them in batches; no transaction spans a call.
A killed or cancelled run resumes with only its missing or failed cells. A completed run
is then scored, as a job of kind `score`, by the code-only suites that fit it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlmodel import Session

from promptyard.guardrails import load_run_guard
from promptyard.models import ErrorKind
from promptyard.runs.cache import serve_from_cache
from promptyard.runs.jobs import JobKind, create_job, dispatch
from promptyard.runs.limits import (
    BACKOFF_BASE_S,
    CALL_TIMEOUT_S,
    CELL_TIMEOUT_S,
    MAX_ATTEMPTS,
    MAX_BACKOFF_S,
    MAX_OUTPUT_BYTES,
    Budget,
    RateLimiter,
    backoff,
)
from promptyard.runs.pricing import price_cells
from promptyard.runs.records import (
    CellTodo,
    cell_update,
    error_completion,
    load_todo,
    provider_bug_completion,
    require_run_keys,
)
from promptyard.runs.state import RUN, RunSummary, claim_run, finish_run, run_summary
from promptyard.storage import db
from promptyard.storage.tables import Cell, Run, RunStatus, Variant, utcnow
from promptyard.workspace import Workspace

if TYPE_CHECKING:
    from promptyard.models import Completion, ModelEndpoint

log = logging.getLogger(__name__)

FLUSH_S = 0.5  # the writer stores, beats the heartbeat and polls cancel this often
WRITE_BATCH = 500
CANCEL_GRACE_S = 2.0


@dataclass
class _Lane:
    """One model's share of the run: its endpoint, limits and queue of cells."""

    endpoint: ModelEndpoint
    parameters: dict[int, dict[str, Any]]  # by variant id
    queue: deque[CellTodo]
    limit: int
    limiter: RateLimiter


@dataclass
class _Outcome:
    cancelled: bool = False
    budget_stopped: bool = False


def _lanes(
    ws: Workspace, run: Run, variants: list[Variant]
) -> tuple[dict[str, _Lane], dict[int, _Lane]]:
    """One lane per model (its endpoint, limit and rpm), and each variant's lane."""
    from promptyard.models import resolve_model

    lanes: dict[str, _Lane] = {}
    lane_of: dict[int, _Lane] = {}
    for v in variants:
        assert v.id is not None
        lane = lanes.get(v.model)
        if lane is None:
            endpoint = resolve_model(ws, v.model)
            limit = min(run.concurrency, endpoint.max_concurrency or run.concurrency)
            lane = _Lane(endpoint, {}, deque(), max(1, limit), RateLimiter(endpoint.rpm))
            lanes[v.model] = lane
        lane.parameters[v.id] = json.loads(v.parameters_json or "{}")
        lane_of[v.id] = lane
    return lanes, lane_of


class _Execution:
    """One execution of a run: the lane workers, the writer and their shared state."""

    def __init__(
        self,
        ws: Workspace,
        run: Run,
        budget: Budget,
        total: int,
        stored: int,
        *,
        timeout_s: float,
        total_timeout_s: float,
        max_output_bytes: int,
        max_attempts: int,
        backoff_base_s: float,
        max_backoff_s: float,
        on_progress: Callable[[int, int], None] | None,
    ) -> None:
        assert run.id is not None
        self.ws, self.run_id, self.budget = ws, run.id, budget
        self.total, self.stored = total, stored
        self.timeout_s, self.max_attempts = timeout_s, max_attempts
        self.total_timeout_s = max(0.001, total_timeout_s)
        self.max_output_bytes = max_output_bytes
        self.backoff_base_s, self.max_backoff_s = backoff_base_s, max_backoff_s
        self.on_progress = on_progress
        self.outcome = _Outcome()
        self.results: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=WRITE_BATCH * 4)
        self.stop = asyncio.Event()
        self.global_slots = asyncio.Semaphore(max(1, run.concurrency))
        self.guard = load_run_guard(ws, run)  # the run's guardrail policy, or None

    async def call_once(self, lane: _Lane, item: CellTodo, timeout_s: float) -> Completion:
        from promptyard.models import ModelCall, complete

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
            async with asyncio.timeout(timeout_s + 1.0):  # no extra task per call
                if self.guard is not None:
                    return await self.guard.complete(call, item.variant_id)
                return await complete(call)
        except TimeoutError:
            return error_completion(
                ErrorKind.TIMEOUT,
                f"no answer within {timeout_s:g} s",
                (time.monotonic() - t) * 1000,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a provider bug must not abort the run
            return provider_bug_completion(
                exc, lane.endpoint, self.ws, (time.monotonic() - t) * 1000
            )

    async def process(self, lane: _Lane, item: CellTodo) -> None:
        started = utcnow()
        # Every attempt, and every wait between them, fits in the cell's total timeout.
        deadline = time.monotonic() + self.total_timeout_s
        attempts = 0
        result: Completion | None = None
        while True:
            await lane.limiter.wait()
            async with self.global_slots:
                attempts += 1
                left = max(0.001, deadline - time.monotonic())
                result = await self.call_once(lane, item, min(self.timeout_s, left))
            if (
                result.ok
                or not result.retryable
                or attempts >= self.max_attempts
                or self.stop.is_set()
            ):
                break
            wait = backoff(
                attempts - 1, result.retry_after_s, self.backoff_base_s, self.max_backoff_s
            )
            if time.monotonic() + wait >= deadline - 0.05:
                result.error_message = (
                    f"{result.error_message or result.error_kind}; gave up after {attempts} "
                    f"attempt(s): the cell's total timeout is {self.total_timeout_s:g} s"
                )
                break
            await asyncio.sleep(wait)
        self.budget.settle(item.budget_estimate, result.cost_usd if result.ok else None)
        await self.results.put(cell_update(item, result, attempts, started, self.max_output_bytes))

    async def lane_worker(self, lane: _Lane) -> None:
        while lane.queue and not self.stop.is_set():
            item = lane.queue[0]
            if not self.budget.reserve(item.budget_estimate):
                self.outcome.budget_stopped = True
                self.stop.set()
                return
            lane.queue.popleft()
            await self.process(lane, item)

    async def writer(self) -> None:
        """Store finished cells in batches, beat the heartbeat and notice a cancel."""
        batch: list[dict[str, Any]] = []
        flush_at = time.monotonic() + FLUSH_S
        finished = False
        while True:
            wait = flush_at - time.monotonic()
            if not finished and wait > 0 and len(batch) < WRITE_BATCH:
                try:
                    item = await asyncio.wait_for(self.results.get(), wait)
                except TimeoutError:
                    pass  # nothing new within the flush interval: store what there is
                else:
                    if item is None:
                        finished = True
                    else:
                        batch.append(item)
                        continue
            cancel = await asyncio.to_thread(_flush, self.ws, self.run_id, batch)
            self.stored += len(batch)
            batch = []
            flush_at = time.monotonic() + FLUSH_S
            if self.on_progress is not None:
                self.on_progress(self.stored, self.total)
            if cancel and not self.outcome.cancelled:
                self.outcome.cancelled = True
                self.stop.set()
            if finished:
                return

    async def run(self, lanes: dict[str, _Lane]) -> None:
        """Send every queued cell, then let the writer store the last batch."""
        writer_task = asyncio.create_task(self.writer())
        workers = [
            asyncio.create_task(self.lane_worker(lane))
            for lane in lanes.values()
            for _ in range(min(lane.limit, max(1, len(lane.queue))))
        ]
        pending = set(workers)
        while pending:
            _, pending = await asyncio.wait(pending, timeout=0.2)
            if writer_task.done() and pending:
                # The writer failed (the database went away): nothing more can be
                # stored, so stop sending and report its error.
                await _drop(pending)
                writer_task.result()
            if self.outcome.cancelled and pending:
                # Give calls in flight a moment, then drop them: their cells stay pending.
                _, pending = await asyncio.wait(pending, timeout=CANCEL_GRACE_S)
                await _drop(pending)
                pending = set()
        await self.results.put(None)
        await writer_task


async def _drop(tasks: set[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def execute_run(
    ws: Workspace,
    run_id: int,
    *,
    timeout_s: float = CALL_TIMEOUT_S,
    total_timeout_s: float = CELL_TIMEOUT_S,
    max_output_bytes: int = MAX_OUTPUT_BYTES,
    max_attempts: int = MAX_ATTEMPTS,
    backoff_base_s: float = BACKOFF_BASE_S,
    max_backoff_s: float = MAX_BACKOFF_S,
    on_progress: Callable[[int, int], None] | None = None,
) -> RunSummary:
    """Send every unfinished cell of the run and store the results; return the summary.

    Raises MissingKeyError before anything starts when a model's API key is unset.
    Only cells that are pending or failed are sent (a completed cell never is). Every
    sent cell ends ok or with an error kind; a failing provider never stops the run.
    `on_progress(done, total)` is called as cells are stored. Each attempt ends at
    `timeout_s`; a cell's attempts and the waits between them, at `total_timeout_s`.
    An output over `max_output_bytes` is stored cut, with `output_truncated` set.
    """
    await asyncio.to_thread(require_run_keys, ws, run_id)
    run = claim_run(ws, run_id, reset_cancel=True)
    t0 = time.monotonic()
    try:
        if run.use_cache:
            await asyncio.to_thread(serve_from_cache, ws, run_id)
        variants, todo, spent = await asyncio.to_thread(load_todo, ws, run_id)
        execution = _Execution(
            ws,
            run,
            Budget(run.max_cost_usd, spent),
            run.total_cells,
            run.total_cells - len(todo),
            timeout_s=timeout_s,
            total_timeout_s=total_timeout_s,
            max_output_bytes=max_output_bytes,
            max_attempts=max_attempts,
            backoff_base_s=backoff_base_s,
            max_backoff_s=max_backoff_s,
            on_progress=on_progress,
        )
        lanes, lane_of = _lanes(ws, run, variants)
        if execution.budget.cap is not None:
            price_cells(
                todo, {vid: (lane.endpoint, lane.parameters[vid]) for vid, lane in lane_of.items()}
            )
        for item in todo:
            lane_of[item.variant_id].queue.append(item)
        del todo
        await execution.run(lanes)
    except BaseException as exc:
        # Synchronous on purpose: the loop may be cancelling us (Ctrl-C).
        interrupted = isinstance(exc, KeyboardInterrupt | asyncio.CancelledError)
        try:
            finish_run(
                ws,
                run_id,
                time.monotonic() - t0,
                RunStatus.CANCELLED if interrupted else RunStatus.FAILED,
                _failure_message(exc),
            )
        except Exception as db_exc:  # the database itself failed: the run reads interrupted
            log.warning("run %s: could not store how it stopped: %s", run_id, db_exc)
        raise
    status, message = _final_state(execution.outcome, execution.budget)
    await asyncio.to_thread(finish_run, ws, run_id, time.monotonic() - t0, status, message)
    if status == RunStatus.COMPLETED:
        await _score_finished(ws, run_id)
    from promptyard.reading.analytics import refresh_variant_stats  # the dashboard's summaries

    await asyncio.to_thread(refresh_variant_stats, ws, run_id)
    return run_summary(ws, run_id)


async def _score_finished(ws: Workspace, run_id: int) -> None:
    """Grade a completed run with the code-only suites that fit it; never fails the run.

    A score job (no suite named: the ones that fit) run here, in the run's own process.
    """
    try:
        job_id = await asyncio.to_thread(create_job, ws, JobKind.SCORE, run_id, {"after_run": True})
        await dispatch(ws, JobKind.SCORE, job_id)
    except Exception as exc:  # a broken suite must not turn a finished run into a failure
        log.warning("run %s: scoring after the run failed: %s", run_id, exc)


def _failure_message(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt | asyncio.CancelledError):
        return "interrupted; resume it to send the remaining cells"
    return f"stopped by an error: {type(exc).__name__}: {str(exc)[:300]}"


def _final_state(outcome: _Outcome, budget: Budget) -> tuple[RunStatus, str | None]:
    if outcome.cancelled:
        return RunStatus.CANCELLED, "cancelled"
    if outcome.budget_stopped:
        return (
            RunStatus.CANCELLED,
            f"stopped by the budget cap: ${budget.spent:.4f} spent of ${budget.cap:.4f}; "
            "the remaining cells were not sent",
        )
    return RunStatus.COMPLETED, None


def _flush(ws: Workspace, run_id: int, batch: list[dict[str, Any]]) -> bool:
    """Store a batch of finished cells and beat the heartbeat; return cancel_requested."""

    def apply(s: Session) -> bool:
        if batch:
            s.execute(update(Cell), batch)
        s.execute(update(Run).where(RUN.c.id == run_id).values(heartbeat_at=utcnow()))
        return bool(s.execute(select(RUN.c.cancel_requested).where(RUN.c.id == run_id)).scalar())

    return db.write(ws, apply)


def run_sync(ws: Workspace, run_id: int, **kwargs: Any) -> RunSummary:
    """`execute_run` for callers without an event loop (CLI, worker process)."""
    return asyncio.run(execute_run(ws, run_id, **kwargs))


async def run_job(ws: Workspace, run_id: int) -> str:
    """The worker's handler of a `run` job: execute the run; return a line for its log."""
    summary = await execute_run(ws, run_id)
    return (
        f"run {run_id}: {summary.status}; {summary.ok} ok, {summary.errors} errors, "
        f"{summary.pending} not sent; cost {summary.cost_label}"
    )
