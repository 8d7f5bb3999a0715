"""Scoring jobs that outlive a page's script run: a thread per (workspace, run, suite).

The app starts a job and polls it; a rerun or a reload does not stop the scoring. Jobs
live in this process only: the scores they store are in the database either way.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

from promptyard.errors import PromptyardError
from promptyard.evals.scoring import score_run_async
from promptyard.evals.suites import load_suite
from promptyard.workspace import Workspace


@dataclass
class ScoringJob:
    run_id: int
    suite: str
    done: int = 0
    total: int = 0
    started: float = field(default_factory=time.monotonic)
    finished: bool = False
    error: str | None = None
    passed: int | None = None
    cells: int | None = None

    @property
    def running(self) -> bool:
        return not self.finished

    def seconds_left(self) -> float | None:
        """An estimate from the pace so far; None before the first graded cell."""
        if not self.done or not self.total:
            return None
        elapsed = time.monotonic() - self.started
        return elapsed / self.done * (self.total - self.done)


_jobs: dict[tuple[str, int, str], ScoringJob] = {}
_lock = threading.Lock()


def scoring_job(ws: Workspace, run_id: int, suite: str) -> ScoringJob | None:
    """The latest job for this run and suite in this process, if any."""
    with _lock:
        return _jobs.get((str(ws.root), run_id, suite))


def start_scoring(ws: Workspace, run_id: int, suite_name: str) -> ScoringJob:
    """Score run `run_id` with suite `suite_name` in a background thread.

    Raises PromptyardError at once for a suite that does not load (with its file and
    line); a job already running for the same run and suite is returned as it is.
    """
    suite = load_suite(ws, suite_name, check_refs=False)
    key = (str(ws.root), run_id, suite_name)
    with _lock:
        current = _jobs.get(key)
        if current is not None and current.running:
            return current
        job = ScoringJob(run_id, suite_name)
        _jobs[key] = job

    def progress(done: int, total: int) -> None:
        job.done, job.total = done, total

    def work() -> None:
        try:
            scores = asyncio.run(score_run_async(ws, run_id, suite, on_progress=progress))
            job.cells = sum(v.cells for v in scores.variants)
            job.passed = sum(v.passed for v in scores.variants)
        except PromptyardError as exc:
            job.error = str(exc)
        except Exception as exc:  # the page shows it; the thread must not die silently
            job.error = f"{type(exc).__name__}: {exc}"
        finally:
            job.finished = True

    threading.Thread(target=work, name=f"score-{run_id}-{suite_name}", daemon=True).start()
    return job
