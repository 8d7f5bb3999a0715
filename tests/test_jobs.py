"""Background jobs: scoring a run is a job the worker runs, with progress, cancel and resume."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlmodel import select

from promptyard import runs
from promptyard.evals import jobs
from promptyard.models import SimulatorHandle
from promptyard.storage import db
from promptyard.storage.tables import Job, Score


def _run(ws: Any, n: int = 4) -> int:
    plan = runs.plan_run(
        ws, [("extract_invoice", None)], ["sim-json"], ("invoices", None), slice=f"head:{n}"
    )
    run_id = runs.create_run(ws, plan)
    runs.run_sync(ws, run_id)
    return run_id


def _row_scores(ws: Any, run_id: int) -> dict[int, Any]:
    with db.session(ws) as s:
        rows = s.exec(
            select(Score).where(
                Score.run_id == run_id, Score.name == "row", Score.suite == "extract_invoice"
            )
        ).all()
        return {r.cell_id: r.created_at for r in rows}


def test_a_finished_run_leaves_a_completed_score_job(workspace: Any, sim: SimulatorHandle) -> None:
    run_id = _run(workspace, n=3)
    with db.session(workspace) as s:
        [job] = s.exec(select(Job).where(Job.run_id == run_id)).all()
    info = runs.get_job(workspace, job.id or 0)
    assert info.kind == runs.JobKind.SCORE and info.params == {"after_run": True}
    assert info.status == runs.JobStatus.COMPLETED
    assert (info.done, info.total) == (6, 6)  # the suite's 3 cells and the default checks' 3
    # Issue 15: the default checks score every finished run too
    assert info.result["suites"] == ["extract_invoice", "default"] and info.result["cells"] == 6
    assert 0 <= info.result["passed"] <= 6


def test_the_worker_scores_a_run_and_reports_progress(workspace: Any, sim: SimulatorHandle) -> None:
    run_id = _run(workspace)
    job = jobs.start_scoring(workspace, run_id, "extract_invoice")
    assert job.running
    deadline = time.monotonic() + 60
    while (job := jobs.get_scoring_job(workspace, job.job_id)).running:
        assert time.monotonic() < deadline, "the scoring worker did not finish"
        time.sleep(0.1)
    assert job.status == runs.JobStatus.COMPLETED and job.error is None
    assert (job.done, job.total, job.cells) == (4, 4, 4)
    assert jobs.scoring_job(workspace, run_id, "extract_invoice") == job
    assert (workspace.data_dir / "logs" / f"score-{job.job_id}.log").exists()


def test_a_cancelled_job_resumes_with_only_the_cells_it_had_not_scored(
    workspace: Any, sim: SimulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = _run(workspace)
    job_id = runs.create_job(workspace, runs.JobKind.SCORE, run_id, {"suite": "extract_invoice"})
    monkeypatch.setattr(jobs, "CODE_CHUNK", 1)
    scored: list[int] = []
    real = jobs._score_chunk

    async def chunk_then_cancel(ws: Any, rid: int, suite: Any, pairs: Any) -> float:
        cost = await real(ws, rid, suite, pairs)
        scored.extend(c.id for c, _ in pairs)
        if len(scored) == 1:
            runs.cancel_job(ws, job_id)  # as the page's Cancel button does
        return cost

    monkeypatch.setattr(jobs, "_score_chunk", chunk_then_cancel)
    asyncio.run(runs.dispatch(workspace, runs.JobKind.SCORE, job_id))
    stopped = jobs.get_scoring_job(workspace, job_id)
    assert stopped.status == runs.JobStatus.CANCELLED and stopped.resumable
    assert (stopped.done, stopped.total) == (1, 4)
    first = dict(_row_scores(workspace, run_id))[scored[0]]

    asyncio.run(runs.dispatch(workspace, runs.JobKind.SCORE, job_id))
    done = jobs.get_scoring_job(workspace, job_id)
    assert done.status == runs.JobStatus.COMPLETED and (done.done, done.total) == (4, 4)
    assert len(scored) == 4 and len(set(scored)) == 4  # no cell was scored twice
    assert _row_scores(workspace, run_id)[scored[0]] == first


def test_cancel_of_a_job_without_a_worker_is_immediate(
    workspace: Any, sim: SimulatorHandle
) -> None:
    run_id = _run(workspace, n=1)
    job_id = runs.create_job(workspace, runs.JobKind.SCORE, run_id, {"suite": "extract_invoice"})
    runs.cancel_job(workspace, job_id)
    assert runs.get_job(workspace, job_id).status == runs.JobStatus.CANCELLED


def test_a_job_whose_worker_died_reads_interrupted(workspace: Any, sim: SimulatorHandle) -> None:
    run_id = _run(workspace, n=1)
    job_id = runs.create_job(workspace, runs.JobKind.SCORE, run_id, {"suite": "extract_invoice"})
    runs.mark_job_started(workspace, job_id, 2**22 + 12345)  # no such process
    info = runs.get_job(workspace, job_id)
    assert info.status == runs.INTERRUPTED and not info.running and info.resumable


def test_every_job_kind_resolves_to_its_handler() -> None:
    for kind in runs.JobKind:
        assert asyncio.iscoroutinefunction(runs.resolve_handler(kind))
