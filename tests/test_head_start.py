"""A fresh run's head start (`runs.head_start`): the first calls leave before the run is
stored, and each is still recorded exactly once, by the run's own worker, counted at the
server; a run whose calls stored state could change (cache, budget, guardrails, shared
rpm, a missing key) sends nothing until it is stored."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from promptyard import runs
from promptyard.models import SimulatorHandle, start_simulator
from promptyard.storage import db
from promptyard.storage.tables import RunStatus

ROWS = 12


@pytest.fixture
def sim() -> Iterator[SimulatorHandle]:
    handle = start_simulator(latency_ms=30)
    yield handle
    handle.faults.clear()
    handle.stop()


def _models(ws: Any, sim: SimulatorHandle, extra: str = "") -> None:
    (ws.root / "models.yaml").write_text(
        "models:\n"
        f"  one:\n    model: openai/sim-fast\n    api_base: {sim.url}\n{extra}"
        f"  two:\n    model: openai/sim-smart\n    api_base: {sim.url}\n"
    )


def _plan(ws: Any, models: list[str], repeats: int = 1) -> Any:
    return runs.plan_run(
        ws, [("summarize", None)], models, ("summaries", None), slice=f"head:{ROWS}",
        repeats=repeats,
    )  # fmt: skip


def _cells(ws: Any, run_id: int) -> list[tuple[Any, ...]]:
    with db.session(ws) as s:
        return list(
            s.connection().execute(
                text(
                    "SELECT c.row_index, v.position, c.repeat, c.status, c.attempts,"
                    " c.latency_ms, c.started_at FROM cell c JOIN variant v ON v.id = c.variant_id"
                    " WHERE c.run_id = :r"
                ),
                {"r": run_id},
            )
        )


@pytest.mark.parametrize("workers", [1, 2])
def test_the_head_calls_are_recorded_once_each(
    workspace: Any, sim: SimulatorHandle, workers: int
) -> None:
    _models(workspace, sim)
    plan = _plan(workspace, ["one", "two"], repeats=2)
    head = runs.start_head(
        workspace, plan, concurrency=6, use_cache=False, max_cost=None, timeout_s=30
    )
    assert head is not None
    run_id = runs.create_run(workspace, plan, concurrency=6, use_cache=False)
    summary = runs.run_sync(workspace, run_id, head=head, workers=workers)
    assert summary.status == RunStatus.COMPLETED and summary.ok == ROWS * 2 * 2
    # Every call the server saw is an attempt recorded on its cell: none was sent by both
    # the head and a worker (a retried attempt, after a dropped connection, counts too).
    cells = _cells(workspace, run_id)
    assert sim.calls == sum(c[4] for c in cells), sorted(c[4] for c in cells)
    assert len(sim.calls_by_key) == ROWS * 2 * 2
    assert all(c[3] == "ok" and c[5] is not None and c[6] for c in cells)


def _wait_calls(sim: SimulatorHandle, at_least: int, still_s: float = 0.3) -> None:
    """Until the simulator has seen `at_least` calls and no more came for `still_s`."""
    deadline = time.monotonic() + 30
    seen, since = sim.calls, time.monotonic()
    while sim.calls < at_least or time.monotonic() - since < still_s:
        assert time.monotonic() < deadline, f"only {sim.calls} calls"
        time.sleep(0.02)
        if sim.calls != seen:
            seen, since = sim.calls, time.monotonic()


def test_the_head_goes_on_sending_until_the_worker_takes_over(
    workspace: Any, sim: SimulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promptyard.runs import head_start

    monkeypatch.setattr(head_start, "MAX_HEAD_CELLS", 20)
    _models(workspace, sim)
    plan = _plan(workspace, ["one", "two"], repeats=2)
    head = runs.start_head(
        workspace, plan, concurrency=4, use_cache=False, max_cost=None, timeout_s=30
    )
    assert head is not None
    _wait_calls(sim, 20)  # five waves of four before the run is even stored, then no more
    assert sim.calls == 20
    run_id = runs.create_run(workspace, plan, concurrency=4, use_cache=False)
    summary = runs.run_sync(workspace, run_id, head=head)
    assert summary.status == RunStatus.COMPLETED and summary.ok == ROWS * 2 * 2
    # the head's twenty were recorded, not sent again
    assert sim.calls == sum(c[4] for c in _cells(workspace, run_id))
    assert len(sim.calls_by_key) == ROWS * 2 * 2


def test_a_head_call_that_failed_is_retried_by_the_worker(
    workspace: Any, sim: SimulatorHandle
) -> None:
    _models(workspace, sim)
    plan = _plan(workspace, ["one"])
    sim.faults.fail_first = 1  # the very first request gets a 500
    head = runs.start_head(
        workspace, plan, concurrency=4, use_cache=False, max_cost=None, timeout_s=30
    )
    assert head is not None
    run_id = runs.create_run(workspace, plan, concurrency=4, use_cache=False)
    summary = runs.run_sync(workspace, run_id, head=head, backoff_base_s=0.01)
    assert summary.status == RunStatus.COMPLETED and summary.ok == ROWS
    assert sim.calls == ROWS + 1
    attempts = sorted(c[4] for c in _cells(workspace, run_id))
    assert attempts == [1] * (ROWS - 1) + [2]


POLICY = "policies:\n  strict:\n    input:\n      - pii: {action: mask, kinds: [email]}\n"


@pytest.mark.parametrize(
    "case", ["cache", "budget", "guardrails", "rpm", "missing key", "cells given one by one"]
)
def test_no_call_leaves_before_the_run_is_stored_when_stored_state_could_change_it(
    workspace: Any, sim: SimulatorHandle, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    extra = {
        "rpm": "    rpm: 600\n",
        "missing key": "    api_key_env: PY_TEST_HEAD_KEY_UNSET\n",
    }.get(case, "")
    monkeypatch.delenv("PY_TEST_HEAD_KEY_UNSET", raising=False)
    _models(workspace, sim, extra)
    plan = _plan(workspace, ["one"])
    if case == "guardrails":
        (workspace.root / "guardrails.yaml").write_text(POLICY)
        plan.guardrails = "strict"
    if case == "cells given one by one":
        plan.cells = list(plan.cells)
    head = runs.start_head(
        workspace,
        plan,
        concurrency=4,
        use_cache=case == "cache",
        max_cost=1.0 if case == "budget" else None,
        timeout_s=30,
    )
    assert head is None
    assert sim.calls == 0
