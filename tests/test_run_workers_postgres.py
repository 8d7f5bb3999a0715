"""Three `promptyard worker` processes on one PostgreSQL, one SIGKILLed mid-run: every cell
sent and stored exactly once, but for the dead worker's unstored cells, counted at a test
server. Each worker names a machine of its own, so its cells come back only when its
lease lapses (no same-host shortcut)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promptyard import runs
from tests.counting_server import CountingServer
from tests.workers_support import (
    ROOT,
    check_kill,
    count_stores,
    held_by,
    lease_ends,
    make_run,
    ok_count,
    peak_before,
    start_worker,
    stored_by,
    stores,
    wait,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def server() -> Iterator[CountingServer]:
    handle = CountingServer(latency_s=0.05).start()
    yield handle
    handle.stop()


def test_three_workers_on_postgres_and_a_kill(
    workspace: Any,
    server: CountingServer,
    postgres_url: str,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROMPTYARD_DATABASE_URL", postgres_url)
    run_id, keys = make_run(workspace, server, 900, concurrency=9)
    count_stores(workspace)
    runs.queue_run(workspace, run_id)
    procs = [
        start_worker(
            workspace,
            {
                "PROMPTYARD_DATABASE_URL": postgres_url,
                "PROMPTYARD_LEASE_S": "3",
                "PROMPTYARD_WORKER_HOST": f"machine-{i}",
            },
            tmp_path / f"worker-{i}.log",
        )
        for i in range(3)
    ]
    victim = procs[0]
    try:
        wait(lambda: stored_by(workspace, run_id).get(str(victim.pid), 0) >= 30)
        wait(lambda: len(stored_by(workspace, run_id)) == 3)
        wait(lambda: bool(held_by(workspace, run_id, victim.pid)), 30)
        os.kill(victim.pid, signal.SIGKILL)
        killed_at = time.time()
        victim.wait()
        held = held_by(workspace, run_id, victim.pid)
        # Its last renewal (every lease / 3) may have been up to a second before the kill.
        lapses = lease_ends(workspace, held)
        assert [p.wait(180) for p in procs[1:]] == [0, 0]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    twice = check_kill(workspace, run_id, server, keys, killed_at, held, 9)
    assert ok_count(workspace, run_id) == 900
    assert peak_before(server, killed_at) <= 9  # the run's concurrency over three workers
    # The dead worker's cells came back only after its lease lapsed: none was sent again
    # before then.
    lapsed = {keys[c]: until for c, until in lapses.items()}
    with server.lock:
        resent = [r for r in server.log if r.key in twice and r.started > killed_at]
    assert all(r.started >= lapsed[r.key] - 0.05 for r in resent)


@pytest.fixture
def own_postgres() -> Iterator[tuple[str, Any]]:
    """A PostgreSQL server of this test's own, which it may stop and start again."""
    import socket
    import subprocess

    if not os.environ.get("PROMPTYARD_TEST_POSTGRES_URL"):
        pytest.skip("PROMPTYARD_TEST_POSTGRES_URL is not set (scripts/test.sh sets it)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="promptyard-pg-"))  # the server's user must reach it
    script = str(ROOT / "scripts" / "postgres.sh")

    def ctl(action: str) -> str:
        args = ["bash", script, action, str(folder)] + ([] if action == "stop" else [str(port)])
        return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()

    url = ctl("start")
    yield url, ctl
    from promptyard.storage import db

    db.dispose_engines()
    ctl("stop")
    shutil.rmtree(folder, ignore_errors=True)


def test_workers_pause_while_the_database_is_away_and_lose_no_cell(
    workspace: Any,
    server: CountingServer,
    own_postgres: tuple[str, Any],
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, ctl = own_postgres
    monkeypatch.setenv("PROMPTYARD_DATABASE_URL", url)
    run_id, keys = make_run(workspace, server, 400, concurrency=4)
    count_stores(workspace)
    runs.queue_run(workspace, run_id)
    env = {"PROMPTYARD_DATABASE_URL": url, "PROMPTYARD_LEASE_S": "3"}
    procs = [start_worker(workspace, env, tmp_path / f"w{i}.log") for i in range(2)]
    try:
        wait(lambda: ok_count(workspace, run_id) >= 40)
        from promptyard.storage import db

        db.dispose_engines()
        ctl("stop")  # the database goes away mid-run, for longer than a lease
        time.sleep(5)
        ctl("restart")
        assert [p.wait(180) for p in procs] == [0, 0]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    summary = runs.run_summary(workspace, run_id)
    assert summary.status == runs.RunStatus.COMPLETED and summary.ok == 400
    assert stores(workspace) == {cid: 1 for cid in keys}  # stored once each, none lost
    logs = "".join((tmp_path / f"w{i}.log").read_text() for i in range(2))
    assert "retrying" in logs or "the database is unavailable" in logs  # it said it paused
    assert set(server.counts()) == set(keys.values())
