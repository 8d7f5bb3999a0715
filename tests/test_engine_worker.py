"""Runs in a detached worker process: kill -9 then resume, and the API key stays secret."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from promptyard import runs
from promptyard.models import SimulatorHandle, request_key, start_simulator
from promptyard.storage import db
from promptyard.storage.payloads import fill_payloads
from promptyard.storage.tables import Cell, CellStatus, RunStatus

FAKE_KEY = "sk-promptyard-test-7f3a9c1e5b2d4f60a8e1c3b5d7f9a2c4"


@pytest.fixture
def slow_sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatorHandle]:
    handle = start_simulator(latency_ms=40)
    monkeypatch.setenv("PROMPTYARD_SIMULATOR_URL", handle.url)
    yield handle
    handle.faults.clear()
    handle.stop()


def _cells(ws: Any, run_id: int) -> list[Cell]:
    with db.session(ws) as s:
        cells = list(s.execute(select(Cell).where(Cell.run_id == run_id)).scalars())
        fill_payloads(s, cells)  # the run's shared rows and prompts (m024)
        return cells


def _wait(predicate: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def _quiet(handle: SimulatorHandle, for_s: float = 0.3) -> None:
    """Wait until the simulator has read every request already sent (its count holds still)."""
    seen, since = handle.calls, time.monotonic()
    while time.monotonic() - since < for_s:
        time.sleep(0.02)
        if handle.calls != seen:
            seen, since = handle.calls, time.monotonic()


def test_kill_9_then_resume_sends_no_completed_cell_again(
    workspace: Any, slow_sim: SimulatorHandle
) -> None:
    plan = runs.plan_run(
        workspace, [("summarize", None)], ["sim-fast", "sim-smart"], ("summaries", None), repeats=2
    )
    run_id = runs.create_run(workspace, plan, concurrency=2)
    pid = runs.start_run_worker(workspace, run_id)
    assert runs.run_summary(workspace, run_id).status == RunStatus.RUNNING

    _wait(lambda: runs.run_progress(workspace, run_id).ok >= 10)
    os.kill(pid, signal.SIGKILL)
    _wait(lambda: runs.run_summary(workspace, run_id).status == runs.INTERRUPTED, 10)

    done_before = [c for c in _cells(workspace, run_id) if c.status == CellStatus.OK]
    assert 10 <= len(done_before) < plan.calls
    # A request the killed worker sent just before it died may still be in the socket.
    _quiet(slow_sim)
    slow_sim.reset_counts()

    summary = runs.run_sync(workspace, run_id, backoff_base_s=0.01)
    assert summary.status == RunStatus.COMPLETED
    # Its summary counts the whole run: earlier cells and resumed ones together.
    assert (summary.cells, summary.ok, summary.errors) == (plan.calls, plan.calls, 0)
    cells = _cells(workspace, run_id)
    identities = [(c.variant_id, c.row_id, c.repeat) for c in cells]
    assert len(identities) == len(set(identities)) == plan.calls
    assert slow_sim.calls == plan.calls - len(done_before)
    models = {v.id: v.model for v in _variants(workspace, run_id)}
    for c in done_before:
        key = request_key(
            {
                "model": models[c.variant_id],
                "user": f"promptyard-repeat-{c.repeat}",
                "messages": json.loads(c.messages_json),
            }
        )
        assert slow_sim.calls_by_key[key] == 0, f"cell {c.id} was sent again"
    # The cells stored before the kill are untouched.
    by_id = {c.id: c for c in cells}
    assert all(by_id[c.id].output == c.output for c in done_before)


def _variants(ws: Any, run_id: int) -> list[Any]:
    from promptyard.storage.tables import Variant

    with db.session(ws) as s:
        return list(s.execute(select(Variant).where(Variant.run_id == run_id)).scalars())


def test_cancel_from_another_process_stops_the_worker(
    workspace: Any, slow_sim: SimulatorHandle
) -> None:
    plan = runs.plan_run(
        workspace, [("summarize", None)], ["sim-fast"], ("summaries", None), repeats=3
    )
    run_id = runs.create_run(workspace, plan, concurrency=1)
    runs.start_run_worker(workspace, run_id)
    _wait(lambda: runs.run_progress(workspace, run_id).ok >= 2)
    runs.cancel_run(workspace, run_id)
    _wait(lambda: runs.run_summary(workspace, run_id).status == RunStatus.CANCELLED, 20)
    summary = runs.run_summary(workspace, run_id)
    assert summary.pending > 0
    runs.start_run_worker(workspace, run_id)
    _wait(lambda: runs.run_summary(workspace, run_id).status == RunStatus.COMPLETED, 60)
    assert runs.run_summary(workspace, run_id).ok == plan.calls


def _all_bytes(root: Path) -> Iterator[tuple[Path, bytes]]:
    for path in root.rglob("*"):
        if path.is_file():
            yield path, path.read_bytes()


def test_api_key_never_reaches_database_workspace_or_logs(
    workspace: Any, slow_sim: SimulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PY_TEST_SIM_KEY", FAKE_KEY)
    (workspace.root / "models.yaml").write_text(
        "models:\n"
        "  keyed:\n"
        "    model: openai/sim-fast\n"
        f"    api_base: {slow_sim.url}\n"
        "    api_key_env: PY_TEST_SIM_KEY\n"
        "    input_cost_per_token: 0.000001\n"
        "    output_cost_per_token: 0.000002\n"
    )
    plan = runs.plan_run(
        workspace, [("summarize", None)], ["keyed"], ("summaries", None), slice="head:6"
    )
    # One run succeeds; a second fails with 401s whose message repeats the Authorization
    # header (so the key comes back from the server and must be scrubbed).
    ok_run = runs.create_run(workspace, plan, concurrency=2)
    runs.start_run_worker(workspace, ok_run)
    _wait(lambda: runs.run_summary(workspace, ok_run).status == RunStatus.COMPLETED)
    slow_sim.faults.echo_auth_in_error = True
    bad_run = runs.create_run(workspace, plan, concurrency=2, use_cache=False)
    runs.start_run_worker(workspace, bad_run)
    # every cell was refused: the run failed (it once read "completed")
    _wait(lambda: runs.run_summary(workspace, bad_run).status == RunStatus.FAILED)

    errors = [c for c in _cells(workspace, bad_run) if c.status == CellStatus.ERROR]
    assert errors and all(c.error_kind == "auth" for c in errors)
    assert all("Incorrect API key" in (c.error_message or "") for c in errors)
    assert runs.run_summary(workspace, ok_run).ok == 6

    db.dispose_engines()
    needle = FAKE_KEY.encode()
    tail = FAKE_KEY[-12:].encode()
    logs = list((workspace.data_dir / "logs").glob("*.log"))
    assert logs, "the workers wrote logs"
    for path, data in _all_bytes(workspace.root):
        assert needle not in data and tail not in data, f"the key leaked into {path}"
