"""Many worker processes on one run (SQLite): shared limits and budget, a killed worker's
cells stored exactly once, counted at a test server on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from promptyard import runs
from tests.counting_server import CountingServer
from tests.workers_support import (
    check_kill,
    count_stores,
    held_by,
    make_run,
    ok_count,
    peak_before,
    start_worker,
    stored_by,
    stores,
    wait,
)


@pytest.fixture
def server() -> Iterator[CountingServer]:
    handle = CountingServer(latency_s=0.05).start()
    yield handle
    handle.stop()


def test_two_processes_share_a_run_with_its_limits(workspace: Any, server: CountingServer) -> None:
    run_id, keys = make_run(workspace, server, 240, concurrency=6)
    count_stores(workspace)
    summary = runs.run_sync(workspace, run_id, workers=2)
    assert summary.status == runs.RunStatus.COMPLETED and summary.ok == 240
    assert server.counts() == {k: 1 for k in keys.values()}  # every cell sent once
    assert stores(workspace) == {cid: 1 for cid in keys}  # and stored once
    assert server.peak <= 6  # the run's concurrency held over both processes
    by_pid = stored_by(workspace, run_id)
    assert len(by_pid) == 2 and str(os.getpid()) in by_pid  # this process and its child


def test_the_budget_holds_over_two_workers(workspace: Any, server: CountingServer) -> None:
    # One call is reserved at (prompt x 1.1 + 16) + 1024 output tokens; 20 + 5 are billed.
    run_id, _ = make_run(workspace, server, 400, concurrency=8, max_cost=0.01)
    summary = runs.run_sync(workspace, run_id, workers=2)
    assert summary.status == runs.RunStatus.CANCELLED and "budget" in (summary.message or "")
    assert 0 < summary.cost_usd <= 0.01
    assert summary.pending > 0
    assert sum(server.counts().values()) == summary.ok  # nothing sent and not stored


def test_a_killed_queue_worker_gives_its_cells_back(
    workspace: Any, server: CountingServer, tmp_path: Any
) -> None:
    run_id, keys = make_run(workspace, server, 600, concurrency=8)
    count_stores(workspace)
    runs.queue_run(workspace, run_id)
    env = {"PROMPTYARD_LEASE_S": "3"}
    victim = start_worker(workspace, env, tmp_path / "a.log")
    other = start_worker(workspace, env, tmp_path / "b.log")
    try:
        # Both have stored cells, and the victim holds some when it dies.
        wait(lambda: stored_by(workspace, run_id).get(str(victim.pid), 0) >= 20)
        wait(lambda: len(stored_by(workspace, run_id)) == 2)
        wait(lambda: bool(held_by(workspace, run_id, victim.pid)), 30)
        os.kill(victim.pid, signal.SIGKILL)
        killed_at = time.time()
        victim.wait()
        held = held_by(workspace, run_id, victim.pid)
        assert other.wait(120) == 0
    finally:
        for proc in (victim, other):
            if proc.poll() is None:
                proc.kill()
    check_kill(workspace, run_id, server, keys, killed_at, held, 8)
    assert peak_before(server, killed_at) <= 8
    assert ok_count(workspace, run_id) == 600


def test_rpm_holds_over_two_workers(workspace: Any, server: CountingServer, tmp_path: Any) -> None:
    run_id, _ = make_run(workspace, server, 48, concurrency=8, rpm=600)
    runs.queue_run(workspace, run_id)
    procs = [start_worker(workspace, {}, tmp_path / f"{i}.log") for i in range(2)]
    try:
        assert [p.wait(120) for p in procs] == [0, 0]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    assert runs.run_summary(workspace, run_id).ok == 48
    starts = sorted(r.started for r in server.log)
    # 600 rpm over both workers: 48 calls take 4.7 s of slots, less up to a second that
    # may bunch up behind the first call's connection. Two workers each at 600 rpm of
    # their own would need only 2.3 s.
    assert starts[-1] - starts[0] >= 3.7


def test_workers_beyond_what_is_sensible_are_capped_with_a_note(
    workspace: Any, server: CountingServer
) -> None:
    from typer.testing import CliRunner

    from promptyard.cli import app

    make_run(workspace, server, 3)
    result = CliRunner().invoke(
        app,
        ["run", "-p", "summarize", "-m", "counted", "-d", "summaries", "--limit", "3",
         "--workers", "64"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "note: --workers 64 is more than this run can use: using 1" in result.stderr
    assert "completed: 3/3 ok" in result.stdout
    assert sum(server.counts().values()) == 3


def test_queue_stores_a_run_and_prints_its_id(workspace: Any, server: CountingServer) -> None:
    from typer.testing import CliRunner

    from promptyard.cli import app

    make_run(workspace, server, 1)
    result = CliRunner().invoke(
        app, ["run", "-p", "summarize", "-m", "counted", "-d", "summaries", "--queue"]
    )
    assert result.exit_code == 0, result.output
    run_id = int(result.stdout.strip())
    assert runs.run_summary(workspace, run_id).status == runs.RunStatus.PENDING
    assert server.counts() == {}  # nothing was sent
    report = runs.serve_queue(workspace, until_idle=True, say=lambda _: None)
    assert report.runs == 1 and report.stored == 22
    assert runs.run_summary(workspace, run_id).status == runs.RunStatus.COMPLETED


def test_unasked_a_small_run_stays_in_one_process_and_a_large_one_uses_the_cores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Below 5,000 cells a second process costs more than it brings (docs/benchmarks.md:
    2,000 cells at 500 ms reach 0.91 of the limit in one process, 0.86 in two); a request
    is still honoured down to 200 cells a process."""
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    assert runs.sensible_workers(None, 2_000, 128) == (1, None)
    assert runs.sensible_workers(None, 12_000, 128) == (2, None)
    assert runs.sensible_workers(None, 200_000, 128) == (4, None)
    assert runs.sensible_workers(None, 200_000, 3) == (3, None)  # one per call slot
    assert runs.sensible_workers(2, 2_000, 128) == (2, None)


def test_a_cli_run_hands_its_share_to_a_worker_that_loaded_while_the_run_was_stored(
    workspace: Any, server: CountingServer
) -> None:
    """`promptyard run --workers 2` starts its second worker before the plan is stored (it
    loads the engine meanwhile); once the run exists, that worker gets its share and the
    cells are sent and stored once each, by both processes."""
    import json

    from typer.testing import CliRunner

    from promptyard.cli import app

    make_run(workspace, server, 1)  # the model and dataset; this run is not the one sent
    result = CliRunner().invoke(
        app,
        ["run", "-p", "summarize", "-m", "counted", "-d", "summaries", "--workers", "2",
         "--repeats", "20", "--concurrency", "4", "--no-cache", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["ok"] == out["cells"] == 22 * 20
    assert sorted(server.counts().values()) == [20] * 22  # each row once per repeat
    by_pid = stored_by(workspace, out["run_id"])
    assert len(by_pid) == 2 and str(os.getpid()) in by_pid  # this process and the standby
    log = runs.log_path(workspace, out["run_id"]).read_text()
    child = next(pid for pid in by_pid if pid != str(os.getpid()))
    assert f"worker {child} stored {by_pid[child]} cells" in log  # its output, in the run's log
    standby_log = workspace.data_dir / "logs" / "standby.log"
    assert not standby_log.exists() or standby_log.read_text() == ""


def test_a_standby_worker_that_gets_no_run_leaves_without_a_trace(workspace: Any) -> None:
    """A run refused after its workers started (or a process killed before it stored its
    run): the waiting workers exit as their stdin closes, and nothing was written."""
    procs = runs.start_standby(workspace, 2)
    time.sleep(0.5)
    assert all(p.poll() is None for p in procs)  # loading, then waiting for a share
    runs.release_standby(procs)
    assert [p.returncode for p in procs] == [0, 0]
    assert runs.list_runs(workspace) == []
