"""Online evaluation in the background worker: the `online_eval` job and its poller.

The worker runs one job per process (`promptyard.runs.worker`), so "the worker polls" is a
poller that enqueues: `enqueue_online_eval` stores an `online_eval` job and spawns a
worker for it unless one is queued or running; `start_online_poller` does that every
interval on a daemon thread (`promptyard collect` starts one), and the job scores every
span received since the last pass (`evals.online.score_pending`), then ends.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading

from sqlmodel import col, select

from promptyard import runs
from promptyard.evals.online import online_suites, score_pending
from promptyard.storage import db
from promptyard.storage.tables import Job, JobStatus
from promptyard.workspace import Workspace

logger = logging.getLogger(__name__)
POLL_S = 60.0  # how often `promptyard collect` enqueues a pass by default


def active_online_job(ws: Workspace) -> int | None:
    """The id of a queued or running `online_eval` job whose worker is alive, if any."""
    with db.session(ws) as s:
        jobs = s.exec(
            select(Job)
            .where(
                Job.kind == runs.JobKind.ONLINE_EVAL,
                col(Job.status).in_([JobStatus.PENDING, JobStatus.RUNNING]),
            )
            .order_by(col(Job.id).desc())
        ).all()
        for job in jobs:
            if runs.effective_status(job) in (JobStatus.PENDING, JobStatus.RUNNING):
                return job.id
    return None


def enqueue_online_eval(ws: Workspace) -> int | None:
    """Start a worker scoring the pending spans; None when one is already at it or no
    suite is online. Returns the job's id."""
    if active_online_job(ws) is not None or not online_suites(ws):
        return None
    job_id = runs.create_job(ws, runs.JobKind.ONLINE_EVAL, None, {})
    runs.spawn(ws, job_id, runs.JobKind.ONLINE_EVAL)
    return job_id


def start_online_poller(
    ws: Workspace, interval_s: float = POLL_S, stop: threading.Event | None = None
) -> threading.Event:
    """Enqueue an online pass every `interval_s` on a daemon thread; set the returned
    event to stop it. A failing pass is logged and the next one tried."""
    stop = stop or threading.Event()

    def loop() -> None:
        while not stop.wait(interval_s):
            try:
                enqueue_online_eval(ws)
            except Exception:  # a poller must outlive a bad suite or a busy database
                logger.warning("online eval enqueue failed", exc_info=True)

    threading.Thread(target=loop, name="online-eval-poller", daemon=True).start()
    return stop


async def run_online_eval_job(ws: Workspace, job_id: int) -> str:
    """The worker's handler: score every pending span with every online suite, store the
    outcome on the job, and return a line for the log."""
    await asyncio.to_thread(runs.mark_job_started, ws, job_id, os.getpid())
    try:
        report = await score_pending(ws)
    except BaseException as exc:
        message = f"{type(exc).__name__}: {exc}"[:500]
        await asyncio.to_thread(runs.finish_job, ws, job_id, JobStatus.FAILED, message)
        raise
    result = {
        "suites": report.suites,
        "spans_read": report.spans_read,
        "spans_scored": report.spans_scored,
        "scores": report.scores,
        "judge_calls": report.judge_calls,
        "judge_cost_usd": report.judge_cost_usd,
        "unscored": report.unscored,
        "errors": report.errors,
    }
    await asyncio.to_thread(runs.finish_job, ws, job_id, JobStatus.COMPLETED, None, result)
    return f"job {job_id}: {report.line()}"


__all__ = [
    "POLL_S",
    "active_online_job",
    "enqueue_online_eval",
    "run_online_eval_job",
    "start_online_poller",
]
