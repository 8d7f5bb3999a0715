"""Three `promptyard worker` processes on one PostgreSQL, one SIGKILLed mid-run: every cell
sent and stored exactly once, but for the dead worker's unstored cells, counted at a test
server. Each worker names a machine of its own, so its cells come back only when its
lease lapses (no same-host shortcut)."""

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
    with server.lock:
        resent = [r for r in server.log if r.key in twice and r.started > killed_at]
    assert all(r.started >= killed_at + 2.5 for r in resent)
