"""A run's child workers: how many (`sensible_workers`), started as its execution begins
(`spawn_cell_workers`) or before its plan is stored (`start_standby`), stopped and reaped.

Light on purpose: `promptyard run` asks how many workers a plan gets, and starts the
standby ones, before its first calls leave, so nothing here loads the storage layer.
The children run `python -m promptyard.runs.worker` (`runs.worker.main`).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from promptyard.workspace import HOME_ENV, Workspace


def job_log(ws: Workspace, kind: str, ident: int) -> Path:
    """Where the worker of job `ident` of `kind` writes its output (`run-ID.log` for runs)."""
    return ws.data_dir / "logs" / f"{kind}-{ident}.log"


CELLS = "cells"  # the mode of a child that shares a run's cells with its parent


def worker_process(
    ws: Workspace,
    args: list[str],
    log: Path,
    *,
    stdin: int = subprocess.DEVNULL,
    detached: bool = False,
) -> subprocess.Popen[bytes]:
    """`python -m promptyard.runs.worker ARGS` in the workspace, this package first on its
    path, its output appended to `log`; `detached`: in a session of its own."""
    env = dict(os.environ)
    env[HOME_ENV] = str(ws.root)
    src = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "promptyard.runs.worker", *args],
            stdin=stdin,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(ws.root),
            start_new_session=detached,
        )


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
        if len(procs) < count and hand_over(proc, share):
            procs.append(proc)
    log = job_log(ws, "run", run_id)  # JobKind.RUN's
    procs += [worker_process(ws, [CELLS, *share], log) for _ in range(count - len(procs))]
    return procs


STANDBY = "standby"  # the mode of a child started before the run it will share is stored


def start_standby(ws: Workspace, count: int) -> list[subprocess.Popen[bytes]]:
    """Start `count` cell workers before the run they are to share is stored: each loads the
    engine (about a second of CPU) while this process plans and stores the run, then waits
    for its share (`spawn_cell_workers(standby=...)`) on its stdin. One whose stdin closes
    unused (`release_standby`, or this process gone) exits without touching the database."""
    log = ws.data_dir / "logs" / "standby.log"  # until it has a run, and has its log
    return [worker_process(ws, [STANDBY], log, stdin=subprocess.PIPE) for _ in range(count)]


def hand_over(proc: subprocess.Popen[bytes], share: list[str]) -> bool:
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
