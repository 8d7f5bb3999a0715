"""Background jobs: the kinds of work the worker process runs, and their stored state.

A run is a job of kind `run` (its state is the Run row). Other kinds, such as scoring a
run with a suite, keep their state in a Job row: status, done/total, cost so far, the
worker's pid and heartbeat, and a cancel request. Each kind names its handler as an
import string, resolved only when a job is dispatched, so this package never imports
the parts above it (evals registers nothing here; the string is enough).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, select
from sqlmodel import Session

from promptyard.errors import NotFoundError
from promptyard.runs.state import (
    INTERRUPTED,
    aware,
    effective_status,
    record_worker_pid,
    request_cancel,
    take_over,
)
from promptyard.storage import db
from promptyard.storage.tables import Job, JobStatus, utcnow
from promptyard.workspace import Workspace

JOB = cast(Table, Job.__table__)  # type: ignore[attr-defined]


class JobKind(StrEnum):
    """What a worker process runs: a run's cells, or the scoring of a run."""

    RUN = "run"  # the id is the run's id
    SCORE = "score"  # the id is a Job row's id
    ONLINE_EVAL = "online_eval"  # the id is a Job row's id; scores received spans


# kind -> "module:function" of an `async def handler(ws, id) -> str` (a line for the log).
HANDLERS: dict[JobKind, str] = {
    JobKind.RUN: "promptyard.runs.executor:run_job",
    JobKind.SCORE: "promptyard.evals.jobs:run_scoring_job",
    JobKind.ONLINE_EVAL: "promptyard.evals.online_jobs:run_online_eval_job",
}

Handler = Callable[[Workspace, int], Awaitable[str]]


def resolve_handler(kind: JobKind | str) -> Handler:
    """The handler of `kind`, imported now; raises ValueError for an unknown kind."""
    target = HANDLERS[JobKind(kind)]
    module, _, name = target.partition(":")
    return cast(Handler, getattr(importlib.import_module(module), name))


async def dispatch(ws: Workspace, kind: JobKind | str, ident: int) -> str:
    """Run job `ident` of `kind` in this process to its end; return its report line."""
    return await resolve_handler(kind)(ws, ident)


@dataclass(frozen=True)
class JobInfo:
    """A stored job as a page or a handler reads it (status is effective)."""

    job_id: int
    kind: str
    run_id: int | None
    params: dict[str, Any]
    status: str  # a dead worker's 'running' job reads 'interrupted'
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    done: int
    total: int
    cost_usd: float
    message: str | None
    result: dict[str, Any]
    cancel_requested: bool

    @property
    def running(self) -> bool:
        """True while the job is queued or its worker is working on it."""
        return self.status in (JobStatus.PENDING, JobStatus.RUNNING)

    @property
    def resumable(self) -> bool:
        """True when a new attempt would finish what this one left undone."""
        return self.status in (INTERRUPTED, JobStatus.CANCELLED, JobStatus.FAILED)

    def seconds_left(self) -> float | None:
        """An estimate from the pace so far; None before the first finished item."""
        started = aware(self.started_at)
        if not self.done or not self.total or started is None:
            return None
        elapsed = (utcnow() - started).total_seconds()
        return elapsed / self.done * max(0, self.total - self.done)


def _info(job: Job) -> JobInfo:
    assert job.id is not None
    return JobInfo(
        job_id=job.id,
        kind=job.kind,
        run_id=job.run_id,
        params=json.loads(job.params_json or "{}"),
        status=effective_status(job),
        created_at=aware(job.created_at) or job.created_at,
        started_at=aware(job.started_at),
        finished_at=aware(job.finished_at),
        done=job.done,
        total=job.total,
        cost_usd=job.cost_usd,
        message=job.message,
        result=json.loads(job.result_json or "{}"),
        cancel_requested=job.cancel_requested,
    )


def _get(s: Session, job_id: int) -> Job:
    job = s.get(Job, job_id)
    if job is None:
        raise NotFoundError(f"job {job_id} does not exist")
    return job


def create_job(
    ws: Workspace, kind: JobKind, run_id: int | None, params: dict[str, Any] | None = None
) -> int:
    """Store a pending job of `kind` on run `run_id`; return its id (nothing starts)."""

    def store(s: Session) -> int:
        job = Job(kind=kind, run_id=run_id, params_json=json.dumps(params or {}, sort_keys=True))
        s.add(job)
        s.flush()
        assert job.id is not None
        return job.id

    return db.write(ws, store)


def get_job(ws: Workspace, job_id: int) -> JobInfo:
    """Job `job_id` as it is now; raises NotFoundError for an unknown id."""
    with db.session(ws) as s:
        return _info(_get(s, job_id))


def latest_job(
    ws: Workspace, kind: JobKind, run_id: int, params: dict[str, Any] | None = None
) -> JobInfo | None:
    """The newest job of `kind` on run `run_id` whose params include `params`, if any."""
    wanted = params or {}
    with db.session(ws) as s:
        rows = s.execute(
            select(Job)
            .where(JOB.c.kind == kind, JOB.c.run_id == run_id)
            .order_by(JOB.c.id.desc())
            .limit(200)
        ).scalars()
        for job in rows:
            info = _info(job)
            if all(info.params.get(k) == v for k, v in wanted.items()):
                return info
    return None


def mark_job_started(ws: Workspace, job_id: int, pid: int | None) -> JobInfo:
    """Claim the job for process `pid` (None: a worker about to start); resets cancel.

    Raises RunBusyError when another live process is working on it.
    """

    def claim(s: Session) -> JobInfo:
        job = _get(s, job_id)
        take_over(job, pid, f"job {job_id}")
        s.add(job)
        return _info(job)

    return db.write(ws, claim)


def set_job_pid(ws: Workspace, job_id: int, pid: int) -> None:
    """Record the pid of the worker started for a claimed job that has none yet."""

    def apply(s: Session) -> None:
        job = _get(s, job_id)
        record_worker_pid(job, pid)
        s.add(job)

    db.write(ws, apply)


def report_progress(ws: Workspace, job_id: int, done: int, total: int, cost_usd: float) -> bool:
    """Store the job's progress and beat its heartbeat; return True when cancel was asked."""

    def apply(s: Session) -> bool:
        job = _get(s, job_id)
        job.done, job.total, job.cost_usd = done, total, cost_usd
        job.heartbeat_at = utcnow()
        s.add(job)
        return job.cancel_requested

    return db.write(ws, apply)


def finish_job(
    ws: Workspace,
    job_id: int,
    status: JobStatus,
    message: str | None = None,
    result: dict[str, Any] | None = None,
) -> None:
    """Store how the job ended (completed, cancelled or failed) and what it reports."""

    def apply(s: Session) -> None:
        job = _get(s, job_id)
        job.status = status
        job.message = message
        job.finished_at = utcnow()
        job.heartbeat_at = utcnow()
        job.worker_pid = None
        if result is not None:
            job.result_json = json.dumps(result, default=str)
        s.add(job)

    db.write(ws, apply)


def cancel_job(ws: Workspace, job_id: int) -> None:
    """Ask the job's worker to stop; a job with no live worker is marked cancelled now."""

    def mark(s: Session) -> None:
        job = _get(s, job_id)
        request_cancel(job)
        s.add(job)

    db.write(ws, mark)
