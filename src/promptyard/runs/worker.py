"""The worker: a detached child process that runs one job (a run, a scoring) to its end.

`spawn(ws, kind, ident)` starts `python -m promptyard.runs.worker KIND ID` in its own
session, so a page reload, a new script run or closing the browser does not stop it.
The child resolves the kind's handler (`promptyard.runs.jobs.HANDLERS`) and writes its
progress to the database; pages poll it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from pathlib import Path

from sqlmodel import Session

from promptyard.runs.children import CELLS, STANDBY, job_log, worker_process
from promptyard.runs.jobs import JobKind, dispatch, mark_job_started, set_job_pid
from promptyard.runs.state import RunBusyError, effective_status, get_run, record_worker_pid
from promptyard.storage import db
from promptyard.storage.tables import RunStatus, utcnow
from promptyard.team import Permission, require
from promptyard.workspace import Workspace


def log_path(ws: Workspace, ident: int, kind: JobKind | str = JobKind.RUN) -> Path:
    """Where the worker of job `ident` of `kind` writes its output (run-ID.log for runs)."""
    return job_log(ws, JobKind(kind), ident)


def _mark_run_started(ws: Workspace, run_id: int) -> None:
    def claim(s: Session) -> None:
        run = get_run(s, run_id)
        if run.status == RunStatus.RUNNING and effective_status(run) == RunStatus.RUNNING:
            raise RunBusyError(f"run {run_id} is already running")
        # Running from now on: the page shows it at once; the child adds its pid.
        run.status = RunStatus.RUNNING
        run.worker_pid = None
        run.heartbeat_at = utcnow()
        run.cancel_requested = False
        run.message = None
        s.add(run)

    db.write(ws, claim)


def _set_run_pid(ws: Workspace, run_id: int, pid: int) -> None:
    def add_pid(s: Session) -> None:
        run = get_run(s, run_id)
        record_worker_pid(run, pid)
        s.add(run)

    db.write(ws, add_pid)


def spawn(ws: Workspace, ident: int, kind: JobKind | str = JobKind.RUN) -> int:
    """Start the worker of job `ident` (a run id for kind run) detached; return its pid.

    Raises RunBusyError when a live process already works on it.
    """
    kind = JobKind(kind)
    if kind == JobKind.RUN:
        _mark_run_started(ws, ident)
    else:
        mark_job_started(ws, ident, None)
    proc = worker_process(ws, [str(kind), str(ident)], log_path(ws, ident, kind), detached=True)
    # Reap the child when it exits, so a finished worker is not left a zombie whose pid
    # still looks alive.
    threading.Thread(target=proc.wait, name=f"reap-{kind}-{ident}", daemon=True).start()
    if kind == JobKind.RUN:
        _set_run_pid(ws, ident, proc.pid)
    else:
        set_job_pid(ws, ident, proc.pid)
    return proc.pid


def start_run_worker(ws: Workspace, run_id: int) -> int:
    """Execute the run in a detached child process; return its pid.

    The run outlives the caller (a Streamlit script run, a page reload): progress is in
    the database, and the child's output goes to `.promptyard/logs/run-ID.log`.
    """
    require(ws, Permission.START_RUNS, f"start run {run_id}")
    return spawn(ws, run_id, JobKind.RUN)


def _cells_main(args: list[str]) -> int:
    from promptyard.runs.cellwork import CellWorker, Limits
    from promptyard.workspace import current_workspace

    run_id, execution, hint, parent = (int(a) for a in args[:4])
    limits = Limits(**json.loads(args[4]))
    worker = CellWorker(
        current_workspace(), run_id, execution, limits, hint=hint, parent_pid=parent
    )
    outcome = asyncio.run(worker.run())
    print(f"run {run_id}: worker {os.getpid()} stored {outcome.stored} cells", flush=True)
    return 0


def _standby_main() -> int:
    """Load the engine, wait for a share of a run on stdin, then work on it like a `cells`
    child (its output from then on in the run's log); exit at once when stdin closes."""
    import promptyard.runs.cellwork  # noqa: F401 - the engine and the storage layer
    from promptyard.workspace import current_workspace

    line = sys.stdin.readline()
    if not line.strip():
        return 0  # no run after all, or its process is gone
    share: list[str] = json.loads(line)  # as `children.hand_over` wrote it
    log = log_path(current_workspace(), int(share[0]))
    with open(log, "ab") as out:
        sys.stdout.flush()
        os.dup2(out.fileno(), sys.stdout.fileno())
        os.dup2(out.fileno(), sys.stderr.fileno())
    return _cells_main(share)


def _parse(args: list[str]) -> tuple[JobKind, int] | None:
    if len(args) == 1 and args[0].isdigit():
        return JobKind.RUN, int(args[0])  # the older form: a run id alone
    if len(args) == 2 and args[0] in set(JobKind) and args[1].isdigit():
        return JobKind(args[0]), int(args[1])
    return None


def main(argv: list[str] | None = None) -> int:
    """Run one job to its end; exit 0 when it finished, 1 on a bad state, 2 on bad usage."""
    from promptyard._env import configure_offline_defaults
    from promptyard.errors import PromptyardError
    from promptyard.workspace import current_workspace

    configure_offline_defaults()
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 6 and argv[0] == CELLS:
        return _cells_main(argv[1:])
    if argv == [STANDBY]:
        return _standby_main()
    parsed = _parse(argv)
    if parsed is None:
        kinds = "|".join(JobKind)
        print(f"usage: python -m promptyard.runs.worker [{kinds}] ID", file=sys.stderr)
        return 2
    kind, ident = parsed
    ws = current_workspace()
    try:
        report = asyncio.run(dispatch(ws, kind, ident))
    except PromptyardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(report, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
