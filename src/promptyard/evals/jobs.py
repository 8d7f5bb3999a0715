"""Scoring jobs: a run scored with a suite by the worker process, not by the page.

`start_scoring` stores a job of kind `score` and starts a detached worker for it (the
same worker that executes runs), so a rerun, a reload or a server restart does not stop
it. The job stores its scores a chunk of cells at a time with its progress (cells done of
total, judge cost so far); `cancel_scoring` stops it and `start_scoring` again resumes a
cancelled or interrupted job with only the cells it had not scored yet.
`run_scoring_job` is the handler the worker (and a finished run) dispatches to.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from promptyard import runs
from promptyard.errors import PromptyardError
from promptyard.evals.default_checks import default_checks
from promptyard.evals.evaluators import Grade
from promptyard.evals.scoring import (
    free_suites_for_run,
    grade_and_store,
    stored_results,
)
from promptyard.evals.scoring.pages import count_finished, finished_pages
from promptyard.evals.suites import ROW_SCORE, Suite, load_suite
from promptyard.storage import db
from promptyard.storage.handles import SCORE
from promptyard.storage.tables import Cell, Score, Variant, utcnow
from promptyard.team import Permission, require
from promptyard.workspace import Workspace

BEAT_S = 1.0  # a job stores its progress, beats its heartbeat and polls cancel this often
CODE_CHUNK = 500  # cells scored and stored at a time by code-only assertions
JUDGED_CHUNK_PER_SLOT = 2  # with judges: this many cells per concurrent judge call
JUST_FINISHED_S = 60.0


@dataclass(frozen=True)
class ScoringJob:
    """A scoring job as the Compare page shows it (read from the database)."""

    job_id: int
    run_id: int
    suite: str | None  # None: the code-only suites that fit (after a run)
    status: str  # pending, running, completed, cancelled, failed or interrupted
    done: int  # cells scored
    total: int
    cost_usd: float  # judge calls so far
    started: datetime | None
    error: str | None  # set when the job failed
    cells: int | None  # set when it completed: cells scored and how many passed
    passed: int | None
    info: runs.JobInfo

    @property
    def running(self) -> bool:
        return self.info.running

    @property
    def resumable(self) -> bool:
        """True when starting it again scores only the cells it has not scored yet."""
        return self.status in (runs.INTERRUPTED, runs.JobStatus.CANCELLED)

    @property
    def just_finished(self) -> bool:
        """True for a job that ended in the last minute (a page announces it once)."""
        end = self.info.finished_at
        return end is not None and (utcnow() - end).total_seconds() < JUST_FINISHED_S

    def seconds_left(self) -> float | None:
        """An estimate from the pace so far; None before the first scored chunk."""
        return self.info.seconds_left()


def _view(info: runs.JobInfo) -> ScoringJob:
    assert info.run_id is not None
    done = info.status == runs.JobStatus.COMPLETED
    return ScoringJob(
        job_id=info.job_id,
        run_id=info.run_id,
        suite=info.params.get("suite"),
        status=info.status,
        done=info.done,
        total=info.total,
        cost_usd=info.cost_usd,
        started=info.started_at,
        error=info.message if info.status == runs.JobStatus.FAILED else None,
        cells=info.result.get("cells") if done else None,
        passed=info.result.get("passed") if done else None,
        info=info,
    )


def scoring_job(ws: Workspace, run_id: int, suite: str) -> ScoringJob | None:
    """The latest job scoring run `run_id` with `suite`, if any."""
    info = runs.latest_job(ws, runs.JobKind.SCORE, run_id, {"suite": suite})
    return _view(info) if info is not None else None


def get_scoring_job(ws: Workspace, job_id: int) -> ScoringJob:
    """Scoring job `job_id` as it is now; raises NotFoundError for an unknown id."""
    return _view(runs.get_job(ws, job_id))


def start_scoring(ws: Workspace, run_id: int, suite_name: str) -> ScoringJob:
    """Score run `run_id` with suite `suite_name` in the background worker.

    Raises PromptyardError at once for a suite that does not load (with its file and
    line). A job already running for the same run and suite is returned as it is; a
    cancelled or interrupted one is resumed with the cells it had not scored.
    """
    require(ws, Permission.START_RUNS, f"score run {run_id}")
    load_suite(ws, suite_name, check_refs=False)
    current = scoring_job(ws, run_id, suite_name)
    if current is not None and current.running:
        return current
    if current is not None and current.resumable:
        job_id = current.job_id
    else:
        job_id = runs.create_job(ws, runs.JobKind.SCORE, run_id, {"suite": suite_name})
    runs.spawn(ws, job_id, runs.JobKind.SCORE)
    return get_scoring_job(ws, job_id)


def cancel_scoring(ws: Workspace, job_id: int) -> None:
    """Ask the scoring job to stop; the cells it scored keep their scores."""
    require(ws, Permission.START_RUNS, "cancel scoring")
    runs.cancel_job(ws, job_id)


# --- the handler the worker runs ---------------------------------------------------------


def _suites_of(ws: Workspace, info: runs.JobInfo) -> list[Suite]:
    assert info.run_id is not None
    name = info.params.get("suite")
    if name:
        return [load_suite(ws, name, check_refs=False)]
    return free_suites_for_run(ws, info.run_id)


@dataclass(frozen=True)
class _Work:
    """One suite to score a run with, on some of its variants (None: all of them)."""

    suite: Suite
    variant_ids: list[int] | None = None


def _scored_ids(run_id: int, suite: Suite, since: datetime) -> Any:
    """A query for the cells this job has already scored with `suite`."""
    query = select(Score.cell_id).where(
        Score.run_id == run_id,
        Score.suite == suite.name,
        Score.evaluator == "suite",
        Score.name == ROW_SCORE,
        col(Score.created_at) >= since,
    )
    return query


def _counts(ws: Workspace, run_id: int, work: _Work, since: datetime) -> tuple[int, int]:
    """(finished cells to score with the work's suite, how many this job already scored)."""
    total = count_finished(ws, run_id, work.variant_ids)
    with db.session(ws) as s:
        query = _scored_ids(run_id, work.suite, since)
        if work.variant_ids is not None:
            query = query.join(Cell, col(Cell.id) == Score.cell_id).where(
                col(Cell.variant_id).in_(work.variant_ids)
            )
        scored = int(s.exec(select(func.count()).select_from(query.distinct().subquery())).one())
    return total, scored


def _todo_chunks(
    ws: Workspace, run_id: int, work: _Work, since: datetime
) -> Iterator[list[tuple[Cell, Variant]]]:
    """The work's cells this job has not scored yet, a chunk at a time (read as they go)."""
    for page in finished_pages(ws, run_id, work.variant_ids, _chunk_size(work.suite)):
        ids = [int(c.id or 0) for c, _ in page]
        # By cell id alone (ix_score_cell_id), then filtered here: asked by run and name,
        # the database would walk every verdict the run has so far, once per chunk.
        with db.session(ws) as s:
            found = s.execute(
                sa_select(
                    SCORE.c.cell_id, SCORE.c.suite, SCORE.c.evaluator, SCORE.c.name,
                    SCORE.c.created_at,
                ).where(SCORE.c.cell_id.in_(ids))
            ).all()  # fmt: skip
        scored = {
            cell_id
            for cell_id, suite, evaluator, name, created in found
            if (suite, evaluator, name) == (work.suite.name, "suite", ROW_SCORE)
            and created is not None
            and _utc(created) >= _utc(since)
        }
        todo = [p for p in page if p[0].id not in scored]
        if todo:
            yield todo


def _utc(value: datetime) -> datetime:
    # SQLite hands datetimes back naive; they are UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _default_work(ws: Workspace, run_id: int) -> list[_Work]:
    """Per variant: its default checks (the checks every finished run gets)."""
    return [_Work(checks.suite, [checks.variant_id]) for checks in default_checks(ws, run_id)]


def _chunk_size(suite: Suite) -> int:
    return max(4, suite.concurrency * JUDGED_CHUNK_PER_SLOT) if suite.uses_judges() else CODE_CHUNK


async def _score_chunk(
    ws: Workspace, run_id: int, suite: Suite, pairs: Sequence[tuple[Cell, Variant]]
) -> float:
    """Grade and store one chunk of cells; return what its judge calls cost."""
    results = await grade_and_store(ws, run_id, suite, pairs)
    return sum(_cost(g) for r in results for g in r.grades.values())


def _cost(g: Grade) -> float:
    return g.judge_cost_usd or 0.0


class _Progress:
    """The job's counters, stored every BEAT_S while a chunk is graded."""

    def __init__(self, ws: Workspace, job_id: int, done: int, total: int, cost: float) -> None:
        self.ws, self.job_id = ws, job_id
        self.done, self.total, self.cost = done, total, cost
        self.cancelled = False

    async def store(self) -> None:
        cancel = await asyncio.to_thread(
            runs.report_progress, self.ws, self.job_id, self.done, self.total, self.cost
        )
        self.cancelled = self.cancelled or cancel

    async def watch(self, task: asyncio.Task[float]) -> float | None:
        """Wait for `task`, beating meanwhile; cancel it (None) when cancel is asked."""
        while True:
            finished, _ = await asyncio.wait({task}, timeout=BEAT_S)
            if finished:
                return task.result()
            await self.store()
            if self.cancelled:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                return None


async def run_scoring_job(ws: Workspace, job_id: int) -> str:
    """Score the job's run, a chunk at a time, skipping cells an earlier attempt scored.

    Stores progress and the outcome on the job; returns a line for the worker's log.
    """
    info = await asyncio.to_thread(runs.mark_job_started, ws, job_id, os.getpid())
    run_id = info.run_id
    assert run_id is not None
    try:
        suites = await asyncio.to_thread(_suites_of, ws, info)
        work = [_Work(suite) for suite in suites]
        if not info.params.get("suite"):  # after a run: the checks every run gets
            defaults = await asyncio.to_thread(_default_work, ws, run_id)
            work += defaults
            suites += [w.suite for w in defaults]
        total = done = 0
        for w in work:
            n, scored = await asyncio.to_thread(_counts, ws, run_id, w, info.created_at)
            total, done = total + n, done + scored
        progress = _Progress(ws, job_id, done, total, info.cost_usd if info.done else 0.0)
        await progress.store()
        for w in work:
            # Read a chunk at a time: a million-cell run is scored in one chunk's memory.
            chunks = _todo_chunks(ws, run_id, w, info.created_at)
            while not progress.cancelled:
                chunk = await asyncio.to_thread(next, chunks, None)
                if chunk is None:
                    break
                cost = await progress.watch(
                    asyncio.create_task(_score_chunk(ws, run_id, w.suite, chunk))
                )
                if cost is None:
                    break
                progress.done += len(chunk)
                progress.cost += cost
                await progress.store()
    except BaseException as exc:
        interrupted = isinstance(exc, KeyboardInterrupt | asyncio.CancelledError)
        status = runs.JobStatus.CANCELLED if interrupted else runs.JobStatus.FAILED
        if interrupted:
            message = "interrupted; start it again to resume"
        elif isinstance(exc, PromptyardError):
            message = str(exc)
        else:  # the page shows it; the job must not fail silently
            message = f"{type(exc).__name__}: {exc}"
        await asyncio.to_thread(runs.finish_job, ws, job_id, status, message[:500])
        raise
    if progress.cancelled:
        await asyncio.to_thread(runs.finish_job, ws, job_id, runs.JobStatus.CANCELLED, "cancelled")
        return f"job {job_id}: scoring run {run_id} cancelled at {progress.done}/{progress.total}"
    result = _result(ws, run_id, list(dict.fromkeys(s.name for s in suites)))
    await asyncio.to_thread(runs.finish_job, ws, job_id, runs.JobStatus.COMPLETED, None, result)
    return (
        f"job {job_id}: scored run {run_id} with {', '.join(result['suites']) or 'no suite'}: "
        f"{result['passed']}/{result['cells']} passed; judges ${progress.cost:.4f}"
    )


def _result(ws: Workspace, run_id: int, suites: list[str]) -> dict[str, Any]:
    stored = [r for r in stored_results(ws, run_id) if r.suite in suites]
    return {
        "suites": suites,
        "cells": sum(r.cells for r in stored),
        "passed": sum(r.passed for r in stored),
    }
