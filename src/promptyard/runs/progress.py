"""Live progress of a run for a progress bar: done/total, errors, spend, time left."""

from __future__ import annotations

from dataclasses import dataclass

from promptyard.reading.cell_counts import VariantCounts
from promptyard.runs.state import aware, effective_status, get_run, run_cell_counts
from promptyard.storage import db
from promptyard.storage.tables import RunStatus, utcnow
from promptyard.workspace import Workspace


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


def run_progress(ws: Workspace, run_id: int) -> RunProgress:
    """Done/total, errors, spend, elapsed and an estimate of the time left."""
    with db.session(ws) as s:
        run = get_run(s, run_id)
        c = run_cell_counts(s, [run_id]).get(run_id) or VariantCounts()
        status = effective_status(run)
        started = aware(run.started_at)
        elapsed = float(run.wall_s or 0.0)
        if status == RunStatus.RUNNING and started is not None:
            elapsed += max(0.0, (utcnow() - started).total_seconds())
        done = c.ok + c.errors
        eta: float | None = None
        if status == RunStatus.RUNNING and done > c.cached and elapsed > 0:
            rate = (done - c.cached) / elapsed
            eta = (run.total_cells - done) / rate if rate > 0 else None
        return RunProgress(
            run_id=run_id,
            status=status,
            total=run.total_cells,
            done=done,
            ok=c.ok,
            errors=c.errors,
            cached=c.cached,
            cost_usd=c.cost_usd,
            elapsed_s=elapsed,
            eta_s=eta,
            message=run.message,
            cancel_requested=run.cancel_requested,
        )
