"""Runs outside the Streamlit script run: a detached child process per run.

`spawn(ws, run_id)` starts `python -m promptyard.runs.worker RUN_ID` in its own session, so a
page reload, a new script run or closing the browser does not stop it. The child writes
its progress to the database; the Runs page polls it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from promptyard.workspace import HOME_ENV, Workspace


def log_path(ws: Workspace, run_id: int) -> Path:
    """Where the worker of run `run_id` writes its output."""
    return ws.data_dir / "logs" / f"run-{run_id}.log"


def spawn(ws: Workspace, run_id: int) -> int:
    """Start the worker of `run_id` as a detached child process; return its pid."""
    from sqlmodel import Session

    from promptyard.runs.engine import RunBusyError, _get_run, effective_status
    from promptyard.storage import db
    from promptyard.storage.tables import RunStatus, utcnow

    def claim(s: Session) -> None:
        run = _get_run(s, run_id)
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
    log = log_path(ws, run_id)
    log.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env[HOME_ENV] = str(ws.root)
    src = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "promptyard.runs.worker", str(run_id)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(ws.root),
            start_new_session=True,
        )
    # Reap the child when it exits, so a finished worker is not left a zombie whose pid
    # still looks alive.
    threading.Thread(target=proc.wait, name=f"reap-run-{run_id}", daemon=True).start()

    def add_pid(s: Session) -> None:
        run = _get_run(s, run_id)
        if run.status == RunStatus.RUNNING and run.worker_pid is None:
            run.worker_pid = proc.pid
            s.add(run)

    db.write(ws, add_pid)
    return proc.pid


def main(argv: list[str] | None = None) -> int:
    """Execute one run to its end; exit 0 when it finished, 1 on a bad state."""
    from promptyard._env import configure_offline_defaults
    from promptyard.errors import PromptyardError
    from promptyard.runs.engine import run_sync
    from promptyard.workspace import current_workspace

    configure_offline_defaults()
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].isdigit():
        print("usage: python -m promptyard.runs.worker RUN_ID", file=sys.stderr)
        return 2
    run_id = int(args[0])
    ws = current_workspace()
    try:
        summary = run_sync(ws, run_id)
    except PromptyardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"run {run_id}: {summary.status}; {summary.ok} ok, {summary.errors} errors, "
        f"{summary.pending} not sent; ${summary.cost_usd:.4f}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
