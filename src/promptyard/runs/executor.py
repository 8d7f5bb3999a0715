"""Executing a run: its worker processes claim and send its cells, then the run finishes.

`execute_run` claims the run for this process, serves what it can from the response
cache, starts a new execution, then works on the cells itself (`runs.cellwork`) beside
`workers - 1` child processes that do the same (`runs.children.spawn_cell_workers`), all
coordinated through the database (`runs.claims`): per-model concurrency, rpm and the
budget hold across them together. A killed or cancelled run resumes with only its
missing or failed cells. A completed run is then scored, as a job of kind `score`, by the
code-only suites that fit it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from promptyard.runs.cache import serve_from_cache
from promptyard.runs.cellwork import CellWorker, Limits, Outcome
from promptyard.runs.children import reap_children, spawn_cell_workers, stop_children
from promptyard.runs.claims import begin_execution
from promptyard.runs.jobs import JobKind, create_job, dispatch
from promptyard.runs.limits import (
    BACKOFF_BASE_S,
    CALL_TIMEOUT_S,
    CELL_TIMEOUT_S,
    MAX_ATTEMPTS,
    MAX_BACKOFF_S,
    MAX_OUTPUT_BYTES,
)
from promptyard.runs.records import require_run_keys
from promptyard.runs.state import RUN, RunSummary, claim_run, finish_run, run_summary
from promptyard.storage import db
from promptyard.storage.tables import RunStatus
from promptyard.workspace import Workspace

if TYPE_CHECKING:
    from promptyard.runs.head_start import HeadStart

log = logging.getLogger(__name__)


async def execute_run(
    ws: Workspace,
    run_id: int,
    *,
    workers: int = 1,
    timeout_s: float = CALL_TIMEOUT_S,
    total_timeout_s: float = CELL_TIMEOUT_S,
    max_output_bytes: int = MAX_OUTPUT_BYTES,
    max_attempts: int = MAX_ATTEMPTS,
    backoff_base_s: float = BACKOFF_BASE_S,
    max_backoff_s: float = MAX_BACKOFF_S,
    on_progress: Callable[[int, int], None] | None = None,
    head: HeadStart | None = None,
    standby: list[Any] | None = None,
) -> RunSummary:
    """Send every unfinished cell of the run and store the results; return the summary.

    Raises MissingKeyError before anything starts when a model's API key is unset.
    Only cells that are pending or failed are sent (a completed cell never is). Every
    sent cell ends ok or with an error kind; a failing provider never stops the run.
    `workers` processes share the cells (this one and `workers - 1` children; see
    `runs.children.sensible_workers` for a sensible number); limits and the budget hold
    over all of them. `on_progress(done, total)` is called as cells are stored. Each
    attempt ends at `timeout_s`; a cell's attempts and the waits between them, at
    `total_timeout_s`. An output over `max_output_bytes` is stored cut, marked. `head`:
    the run's first calls, sent before it was stored (`runs.head_start.start_head`);
    `standby`: child workers started before it was stored (`runs.children.start_standby`),
    which take their shares first. The caller releases those left unused.
    """
    await asyncio.to_thread(require_run_keys, ws, run_id)
    run = claim_run(ws, run_id, reset_cancel=True)
    t0 = time.monotonic()
    limits = Limits(
        timeout_s, total_timeout_s, max_output_bytes, max_attempts, backoff_base_s, max_backoff_s
    )
    children: list[Any] = []
    try:
        if run.use_cache:
            await asyncio.to_thread(serve_from_cache, ws, run_id)
        execution, done = await asyncio.to_thread(begin_execution, ws, run_id)
        n = max(1, workers)

        def start_children() -> None:
            # After this worker has claimed the head start's cells: the others would claim
            # those first cells too, and send them again.
            if n > 1:
                children.extend(spawn_cell_workers(ws, run_id, execution, n - 1, limits, standby))

        worker = CellWorker(
            ws,
            run_id,
            execution,
            limits,
            hint=n,
            done=done,
            total=run.total_cells,
            on_progress=on_progress,
            head=head,
            on_claimed_head=start_children,
        )
        outcome = await worker.run()
    except BaseException as exc:
        stop_children(children)
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
    await asyncio.to_thread(reap_children, children)
    await finalize_run(ws, run_id, outcome, time.monotonic() - t0)
    return run_summary(ws, run_id)


async def finalize_run(
    ws: Workspace, run_id: int, outcome: Outcome, elapsed: float, only_if_running: bool = False
) -> bool:
    """Store how the run ended (completed, with errors, cancelled, budget-stopped), then
    score a completed run and refresh the dashboard's summaries. With `only_if_running`,
    nothing happens unless the run is still running (one of many workers finishes it).
    Returns whether this call finished it."""
    status, message = await asyncio.to_thread(_final_state, ws, run_id, outcome)
    finished = await asyncio.to_thread(
        finish_run, ws, run_id, elapsed, status, message, only_if_running
    )
    if not finished:
        return False
    if status == RunStatus.COMPLETED:
        await _score_finished(ws, run_id)
    from promptyard.reading.variant_stats import refresh_variant_stats  # no pandas

    await asyncio.to_thread(refresh_variant_stats, ws, run_id)
    return True


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


def _final_state(ws: Workspace, run_id: int, outcome: Outcome) -> tuple[RunStatus, str | None]:
    if outcome.cancelled:
        return RunStatus.CANCELLED, "cancelled"
    if outcome.budget_stopped:
        with db.session(ws) as s:
            spent, cap = s.execute(
                select(RUN.c.spent_usd, RUN.c.max_cost_usd).where(RUN.c.id == run_id)
            ).one()
        return (
            RunStatus.CANCELLED,
            f"stopped by the budget cap: ${spent:.4f} spent of ${cap or 0:.4f}; "
            "the remaining cells were not sent",
        )
    return RunStatus.COMPLETED, None


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
