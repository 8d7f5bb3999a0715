"""The worker: a detached child process that runs one job (a run, a scoring) to its end.

`spawn(ws, kind, ident)` starts `python -m promptyard.runs.worker KIND ID` in its own
session, so a page reload, a new script run or closing the browser does not stop it.
The child resolves the kind's handler (`promptyard.runs.jobs.HANDLERS`) and writes its
progress to the database; pages poll it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlmodel import Session

from promptyard.runs.jobs import JobKind, dispatch, mark_job_started, set_job_pid
from promptyard.runs.state import RunBusyError, effective_status, get_run, record_worker_pid
from promptyard.storage import db
from promptyard.storage.tables import RunStatus, utcnow
from promptyard.team import Permission, require
from promptyard.workspace import HOME_ENV, Workspace


def log_path(ws: Workspace, ident: int, kind: JobKind | str = JobKind.RUN) -> Path:
    """Where the worker of job `ident` of `kind` writes its output (run-ID.log for runs)."""
    return ws.data_dir / "logs" / f"{JobKind(kind)}-{ident}.log"


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
    log = log_path(ws, ident, kind)
    log.parent.mkdir(parents=True, exist_ok=True)
    env = _child_env(ws)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "promptyard.runs.worker", str(kind), str(ident)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(ws.root),
            start_new_session=True,
        )
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


CELLS = "cells"  # the mode of a child that shares a run's cells with its parent


def _child_env(ws: Workspace) -> dict[str, str]:
    env = dict(os.environ)
    env[HOME_ENV] = str(ws.root)
    src = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    return env


def sensible_workers(requested: int | None, cells: int, concurrency: int) -> tuple[int, str | None]:
    """How many worker processes to use for `cells` at `concurrency`, and a note when the
    request was cut: at most one per core (each is CPU-bound), one per call slot, and one
    per MIN_CELLS_PER_WORKER cells (a process costs a second or two to start). Unasked,
    one per core but one per CELLS_PER_DEFAULT_WORKER cells: below that one process
    sends as fast, and faster for a slow model (the others' start and the slots they take
    over cost more than their CPU brings; docs/benchmarks.md)."""
    cores = os.cpu_count() or 1
    wanted = (
        max(1, min(cores, cells // CELLS_PER_DEFAULT_WORKER)) if requested is None else requested
    )
    cap = max(1, min(cores, concurrency, cells // MIN_CELLS_PER_WORKER or 1))
    if wanted <= cap:
        return max(1, wanted), None
    note = None
    if requested is not None:
        note = (
            f"--workers {requested} is more than this run can use: using {cap} "
            f"({cores} cores, concurrency {concurrency}, {cells} cells to send)"
        )
    return cap, note


MIN_CELLS_PER_WORKER = 200
CELLS_PER_DEFAULT_WORKER = 5_000


def spawn_cell_workers(
    ws: Workspace,
    run_id: int,
    execution: int,
    count: int,
    limits: Any,
    standby: list[subprocess.Popen[bytes]] | None = None,
) -> list[subprocess.Popen[bytes]]:
    """Start `count` child processes that share execution `execution` of the run with this
    one (`python -m promptyard.runs.worker cells ...`); they stop when this one dies. The
    `standby` workers (`start_standby`) still waiting get their share first."""
    share = [
        str(run_id),
        str(execution),
        str(count + 1),
        str(os.getpid()),
        json.dumps(asdict(limits)),
    ]
    procs: list[subprocess.Popen[bytes]] = []
    for proc in standby or []:
        if len(procs) < count and _hand_over(proc, share):
            procs.append(proc)
    if len(procs) == count:
        return procs
    log = log_path(ws, run_id)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        for _ in range(count - len(procs)):
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "promptyard.runs.worker", CELLS, *share],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=_child_env(ws),
                    cwd=str(ws.root),
                )
            )
    return procs


STANDBY = "standby"  # the mode of a child started before the run it will share is stored


def start_standby(ws: Workspace, count: int) -> list[subprocess.Popen[bytes]]:
    """Start `count` cell workers before the run they are to share is stored: each loads the
    engine (about a second of CPU) while this process plans and stores the run, then waits
    for its share (`spawn_cell_workers(standby=...)`) on its stdin. One whose stdin closes
    unused (`release_standby`, or this process gone) exits without touching the database."""
    log = ws.data_dir / "logs" / "standby.log"  # until it has a run, and has its log
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        return [
            subprocess.Popen(
                [sys.executable, "-m", "promptyard.runs.worker", STANDBY],
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=_child_env(ws),
                cwd=str(ws.root),
            )
            for _ in range(count)
        ]


def _hand_over(proc: subprocess.Popen[bytes], share: list[str]) -> bool:
    """Give a standby worker its share of a run; False when it is gone or already has one."""
    if proc.stdin is None or proc.stdin.closed or proc.poll() is not None:
        return False
    try:
        proc.stdin.write((json.dumps(share) + "\n").encode())
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        return False
    return True


def release_standby(procs: list[subprocess.Popen[bytes]]) -> None:
    """Let the standby workers that got no run go: their stdin closes and they exit."""
    idle = [p for p in procs if p.stdin is not None and not p.stdin.closed]
    for proc in idle:
        with contextlib.suppress(OSError):
            assert proc.stdin is not None
            proc.stdin.close()
    reap_children(idle, 10.0)


def stop_children(procs: list[subprocess.Popen[bytes]]) -> None:
    """Ask child workers to stop (their unstored cells go back when their leases lapse)."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    reap_children(procs, 5.0)


def reap_children(procs: list[subprocess.Popen[bytes]], timeout_s: float = 30.0) -> None:
    """Wait for child workers to exit (they do once nothing is left); kill a straggler."""
    deadline = time.monotonic() + timeout_s
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
    from promptyard.models.providers.http_pool import load_client
    from promptyard.workspace import current_workspace

    load_client()
    line = sys.stdin.readline()
    if not line.strip():
        return 0  # no run after all, or its process is gone
    share = [str(a) for a in json.loads(line)]
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
