"""Where runs stand: live or interrupted workers, summaries, progress, listing, cancel,
and the transitions of a run's status (claimed by a process, finished).

A run's status is stored; `effective_status` adds 'interrupted' for a 'running' run whose
worker process is gone, so a page or the CLI never shows a dead run as running.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from promptyard.errors import NotFoundError, PromptyardError
from promptyard.reading.cell_counts import VariantCounts, variant_counts
from promptyard.runs.money import format_usd
from promptyard.storage import db
from promptyard.storage.handles import CELL, RUN, VARIANT
from promptyard.storage.tables import (
    CellStatus,
    Job,
    Run,
    RunKind,
    RunStatus,
    Variant,
    utcnow,
)
from promptyard.workspace import Workspace

# Typed column access for queries (the SQLModel attributes read as plain values to mypy).

INTERRUPTED = "interrupted"  # shown for a 'running' run whose worker is gone
STALE_AFTER_S = 30.0  # a heartbeat older than this, with no live worker pid: interrupted


class RunBusyError(PromptyardError):
    """The run (or job) is already executing in a live process."""


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
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    unknown_cost_cells: int = 0  # sent cells whose price is unknown: not in cost_usd

    @property
    def cost_label(self) -> str:
        """The spend as shown: `$0.0317`, `$0.0317 + unknown (2 cells)`, or `unknown`."""
        if self.unknown_cost_cells and not self.cost_usd:
            return "unknown"
        known = format_usd(self.cost_usd)
        unknown = self.unknown_cost_cells
        return f"{known} + unknown ({unknown} cells)" if unknown else known

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready values, with `id` beside `run_id`."""
        d = asdict(self)
        d["id"] = self.run_id
        d["created_at"] = self.created_at.isoformat()
        return d


def aware(value: datetime | None) -> datetime | None:
    """`value` in UTC with its timezone (SQLite hands back naive datetimes)."""
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


def worker_gone(worker_pid: int | None, heartbeat_at: datetime | None) -> bool:
    """True when the worker of a 'running' run or job has died (or never started)."""
    beat = aware(heartbeat_at)
    fresh = beat is not None and utcnow() - beat < timedelta(seconds=STALE_AFTER_S)
    if worker_pid and not pid_alive(worker_pid):
        return True
    if not worker_pid and not fresh:
        return True
    if worker_pid and not fresh and beat is not None:
        # The pid may have been reused by another process after a crash.
        return utcnow() - beat > timedelta(seconds=STALE_AFTER_S * 4)
    return False


def effective_status(row: Run | Job) -> str:
    """The stored status, except a 'running' run or job whose worker died reads 'interrupted'."""
    if row.status != RunStatus.RUNNING:
        return row.status
    return INTERRUPTED if worker_gone(row.worker_pid, row.heartbeat_at) else row.status


def request_cancel(row: Run | Job) -> None:
    """Ask a run's or job's worker to stop; one with no live worker is cancelled at once."""
    row.cancel_requested = True
    if row.status == RunStatus.PENDING or effective_status(row) == INTERRUPTED:
        row.status = RunStatus.CANCELLED
        row.message = "cancelled"
        row.worker_pid = None


def take_over(row: Run | Job, pid: int | None, what: str, reset_cancel: bool = True) -> None:
    """Mark a run or job running for process `pid` (None: a worker about to start).

    Raises RunBusyError when another live process is working on it; `what` names it.
    """
    if (
        row.status == RunStatus.RUNNING
        and row.worker_pid not in (None, pid, os.getpid())
        and effective_status(row) == RunStatus.RUNNING
    ):
        raise RunBusyError(f"{what} is already running in process {row.worker_pid}")
    if reset_cancel:
        row.cancel_requested = False
    row.status = RunStatus.RUNNING
    row.worker_pid = pid
    row.started_at = utcnow()
    row.heartbeat_at = utcnow()
    row.finished_at = None
    row.message = None


def record_worker_pid(row: Run | Job, pid: int) -> None:
    """Note the pid of the worker started for a claimed run or job that has none yet."""
    if row.status == RunStatus.RUNNING and row.worker_pid is None:
        row.worker_pid = pid


def get_run(s: Session, run_id: int) -> Run:
    """The Run row of `run_id` in session `s`; raises NotFoundError when there is none."""
    run = s.get(Run, run_id)
    if run is None:
        raise NotFoundError(f"run {run_id} does not exist")
    return run


def run_cell_counts(s: Session, run_ids: Sequence[int]) -> dict[int, VariantCounts]:
    """Per run: its cells counted along the cell indexes (reading.cell_counts)."""
    if not run_ids:
        return {}
    run_of = dict(
        s.execute(select(VARIANT.c.id, VARIANT.c.run_id).where(VARIANT.c.run_id.in_(run_ids))).all()
    )
    out: dict[int, VariantCounts] = {}
    for variant_id, counts in variant_counts(s, run_of).items():
        out.setdefault(run_of[variant_id], VariantCounts()).add(counts)
    return out


def _summaries(s: Session, runs: Sequence[Run]) -> list[RunSummary]:
    ids = [r.id for r in runs if r.id is not None]
    counts = run_cell_counts(s, ids)
    variants: dict[int, list[str]] = {}
    if ids:
        for v in s.execute(
            select(Variant).where(VARIANT.c.run_id.in_(ids)).order_by(VARIANT.c.position)
        ).scalars():
            variants.setdefault(v.run_id, []).append(v.label)
    out = []
    for r in runs:
        assert r.id is not None
        c = counts.get(r.id) or VariantCounts()
        out.append(
            RunSummary(
                run_id=r.id,
                name=r.name,
                kind=r.kind,
                status=effective_status(r),
                created_at=aware(r.created_at) or r.created_at,
                cells=c.cells,
                ok=c.ok,
                errors=c.errors,
                pending=c.cells - c.ok - c.errors,
                cached=c.cached,
                cost_usd=c.cost_usd,
                wall_s=r.wall_s,
                message=r.message,
                dataset=r.dataset_name,
                variants=variants.get(r.id, []),
                max_cost_usd=r.max_cost_usd,
                concurrency=r.concurrency,
                errors_by_kind=count_errors_by_kind(s, r.id) if c.errors else {},
                unknown_cost_cells=c.unknown_cost,
            )
        )
    return out


def run_summary(ws: Workspace, run_id: int) -> RunSummary:
    """Counts, spend, status and wall time of one run."""
    with db.session(ws) as s:
        return _summaries(s, [get_run(s, run_id)])[0]


def list_runs(ws: Workspace, kind: str | None = RunKind.RUN, limit: int = 200) -> list[RunSummary]:
    """Runs newest first (kind None: every kind, playground runs too)."""
    with db.session(ws) as s:
        stmt = select(Run).order_by(RUN.c.id.desc()).limit(limit)
        if kind is not None:
            stmt = stmt.where(RUN.c.kind == kind)
        runs = list(s.execute(stmt).scalars())
        return _summaries(s, runs)


def cancel_run(ws: Workspace, run_id: int) -> None:
    """Ask the run's worker to stop; a run with no live worker is marked cancelled now."""

    def mark(s: Session) -> None:
        run = get_run(s, run_id)
        request_cancel(run)
        s.add(run)

    db.write(ws, mark)


def claim_run(ws: Workspace, run_id: int, reset_cancel: bool) -> Run:
    """Mark the run running in this process; raises RunBusyError if another live one has it."""
    pid = os.getpid()

    def claim(s: Session) -> Run:
        run = get_run(s, run_id)
        take_over(run, pid, f"run {run_id}", reset_cancel)
        s.add(run)
        return run

    return db.write(ws, claim)


def finish_run(
    ws: Workspace,
    run_id: int,
    elapsed: float,
    status: str,
    message: str | None,
    only_if_running: bool = False,
) -> bool:
    """Store how an execution of the run ended; add its `elapsed` seconds to the wall time.

    A run that ran to its end (`completed`) is `completed` only when every cell is ok:
    with error cells it is `completed with errors`, and `failed` when no cell is ok; the
    message counts the errors per kind, so they can be resumed. With `only_if_running`
    a run no longer running is left as it is. Returns whether the run was changed.
    """

    def apply(s: Session) -> bool:
        run = get_run(s, run_id)
        if only_if_running and run.status != RunStatus.RUNNING:
            return False
        run.status = status
        run.message = message
        run.finished_at = utcnow()
        run.wall_s = (run.wall_s or 0.0) + elapsed
        run.worker_pid = None
        run.heartbeat_at = utcnow()
        if status == RunStatus.COMPLETED:
            run.status, run.message = _outcome(s, run_id)
        s.add(run)
        return True

    return db.write(ws, apply)


def count_errors_by_kind(s: Session, run_id: int) -> dict[str, int]:
    """How many of the run's cells ended in each error kind."""
    rows = s.execute(
        select(CELL.c.error_kind, func.count())
        .where(
            CELL.c.status == CellStatus.ERROR,
            # by variant and status along ix_cell_stats: the error cells alone are read
            CELL.c.variant_id.in_(select(VARIANT.c.id).where(VARIANT.c.run_id == run_id)),
        )
        .group_by(CELL.c.error_kind)
    ).all()
    return {str(kind or "unknown"): int(n) for kind, n in sorted(rows, key=lambda r: -r[1])}


def _outcome(s: Session, run_id: int) -> tuple[str, str | None]:
    """The status and message of a run whose every cell was sent."""
    kinds = count_errors_by_kind(s, run_id)
    if not kinds:
        return RunStatus.COMPLETED, None
    ok = s.execute(
        select(func.count()).where(CELL.c.run_id == run_id, CELL.c.status == CellStatus.OK)
    ).scalar()
    counts = ", ".join(f"{n} {kind}" for kind, n in kinds.items())
    errors = sum(kinds.values())
    if not ok:
        return RunStatus.FAILED, f"every cell failed ({counts}); resume to retry them"
    return (
        RunStatus.COMPLETED_WITH_ERRORS,
        f"{errors} cell(s) ended with an error ({counts}); resume to retry them",
    )
