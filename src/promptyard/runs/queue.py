"""Queued runs and the workers that serve them, on any number of machines.

`queue_run` stores a run for workers without executing it. `serve_queue` (behind
`promptyard worker`) loops: it picks a queued run with cells left, joins it (the first
worker starts its execution and serves the cache), claims and sends cells like any
worker of the run (`runs.cellwork`), and the worker that sees the last cell stored
finishes the run. When the database goes away it pauses, keeps what it has not stored,
and goes on when the database is back; cells whose lease lapsed meanwhile are claimed by
others and stored once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from promptyard.errors import PromptyardError
from promptyard.runs.cache import serve_from_cache
from promptyard.runs.cellwork import CellWorker, Limits, Outcome
from promptyard.runs.claims import remaining
from promptyard.runs.executor import finalize_run
from promptyard.runs.limits import (
    BACKOFF_BASE_S,
    CALL_TIMEOUT_S,
    CELL_TIMEOUT_S,
    MAX_ATTEMPTS,
    MAX_BACKOFF_S,
    MAX_OUTPUT_BYTES,
)
from promptyard.runs.state import CELL, RUN, VARIANT, aware, get_run
from promptyard.storage import db
from promptyard.storage.tables import CellStatus, RunStatus, utcnow
from promptyard.workspace import Workspace

DEFAULT_LIMITS = Limits(
    CALL_TIMEOUT_S, CELL_TIMEOUT_S, MAX_OUTPUT_BYTES, MAX_ATTEMPTS, BACKOFF_BASE_S, MAX_BACKOFF_S
)


def queue_run(ws: Workspace, run_id: int) -> None:
    """Mark a pending run for `promptyard worker` processes; nothing is sent here."""

    def mark(s: Session) -> None:
        run = get_run(s, run_id)
        if run.status not in (RunStatus.PENDING, RunStatus.CANCELLED, RunStatus.FAILED):
            raise PromptyardError(f"run {run_id} is {run.status}: only a stopped run can be queued")
        run.queued = True
        run.status = RunStatus.PENDING
        run.cancel_requested = False
        s.add(run)

    db.write(ws, mark)


def next_queued_run(ws: Workspace) -> int | None:
    """The oldest queued run that is not stopped and still has cells to send."""
    todo = exists().where(
        CELL.c.run_id == RUN.c.id,
        (CELL.c.status == CellStatus.PENDING)
        | ((CELL.c.status == CellStatus.ERROR) & (CELL.c.execution < RUN.c.execution)),
    )
    stmt = (
        select(RUN.c.id)
        .where(
            RUN.c.queued.is_(True),
            RUN.c.status.in_([RunStatus.PENDING, RunStatus.RUNNING]),
            RUN.c.cancel_requested.is_(False),
            RUN.c.budget_stopped.is_(False),
            (RUN.c.status == RunStatus.PENDING) | todo,
        )
        .order_by(RUN.c.id)
        .limit(1)
    )
    with db.session(ws) as s:
        return s.execute(stmt).scalar()


def join_queued_run(ws: Workspace, run_id: int) -> int | None:
    """Join a queued run: start its execution if it is pending (serving the cache first);
    return the execution to work on, or None when it stopped meanwhile."""
    with db.session(ws) as s:
        status, use_cache = s.execute(
            select(RUN.c.status, RUN.c.use_cache).where(RUN.c.id == run_id)
        ).one()
    if status == RunStatus.PENDING and use_cache:
        serve_from_cache(ws, run_id)  # before any worker claims: a cached cell is never sent

    def start(s: Session) -> int | None:
        run = s.execute(select(RUN).where(RUN.c.id == run_id).with_for_update()).one()
        if run.status == RunStatus.PENDING:
            spent = s.execute(
                select(func.coalesce(func.sum(CELL.c.cost_usd), 0.0)).where(
                    CELL.c.run_id == run_id, CELL.c.cached.is_(False)
                )
            ).scalar()
            s.execute(
                update(RUN)
                .where(RUN.c.id == run_id)
                .values(
                    status=RunStatus.RUNNING,
                    execution=RUN.c.execution + 1,
                    spent_usd=float(spent or 0.0),
                    reserved_usd=0.0,
                    budget_stopped=False,
                    worker_pid=None,  # workers of many machines: the heartbeat tells
                    started_at=utcnow(),
                    heartbeat_at=utcnow(),
                    finished_at=None,
                    message=None,
                )
            )
        elif run.status != RunStatus.RUNNING or run.cancel_requested:
            return None
        return int(s.execute(select(RUN.c.execution).where(RUN.c.id == run_id)).scalar() or 0)

    return db.write(ws, start)


def _all_variants(ws: Workspace, run_id: int) -> list[int]:
    with db.session(ws) as s:
        return list(s.execute(select(VARIANT.c.id).where(VARIANT.c.run_id == run_id)).scalars())


async def work_on(ws: Workspace, run_id: int, limits: Limits = DEFAULT_LIMITS) -> Outcome | None:
    """Join queued run `run_id`, work on it until it has nothing left for this worker, and
    finish it when its last cell is stored. None when the run could not be joined."""
    execution = await asyncio.to_thread(join_queued_run, ws, run_id)
    if execution is None:
        return None
    outcome = await CellWorker(ws, run_id, execution, limits, patient=True).run()
    left = await asyncio.to_thread(
        remaining, ws, run_id, execution, await asyncio.to_thread(_all_variants, ws, run_id)
    )
    if outcome.cancelled or outcome.budget_stopped or not left:
        with db.session(ws) as s:
            started = aware(get_run(s, run_id).started_at)
        elapsed = (utcnow() - started).total_seconds() if started else 0.0
        await finalize_run(ws, run_id, outcome, elapsed, only_if_running=True)
    return outcome


@dataclass
class ServeReport:
    """What a queue worker did before it stopped."""

    runs: int = 0
    stored: int = 0
    outages: int = 0


def serve_queue(
    ws: Workspace,
    *,
    until_idle: bool = False,
    poll_s: float = 2.0,
    limits: Limits = DEFAULT_LIMITS,
    say: Callable[[str], None] = print,
) -> ServeReport:
    """Work on queued runs until interrupted (or, `until_idle`, until none is left).

    A database that cannot be reached pauses the worker (a line each time), which goes on
    when it is back; nothing stored is lost and nothing is stored twice.
    """
    report = ServeReport()
    down_since: float | None = None
    while True:
        try:
            run_id = next_queued_run(ws)
            if down_since is not None:
                say(f"the database is back after {time.monotonic() - down_since:.0f} s")
                down_since = None
            if run_id is None:
                if until_idle:
                    return report
                time.sleep(poll_s)
                continue
            outcome = asyncio.run(work_on(ws, run_id, limits))
            if outcome is not None:
                report.runs += 1
                report.stored += outcome.stored
                say(f"run {run_id}: stored {outcome.stored} cells")
        except DBAPIError as exc:
            report.outages += 1
            if down_since is None:
                down_since = time.monotonic()
                first = str(exc.orig or exc).splitlines()[0][:200]
                say(f"the database is unavailable ({first}); waiting for it")
            time.sleep(poll_s)
