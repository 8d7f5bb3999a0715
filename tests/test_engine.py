"""The run engine over real HTTP against the simulator: plans, faults, budget, cache, cancel."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import pytest
from sqlmodel import select

from promptyard import runs
from promptyard.models import SimulatorHandle, request_key, start_simulator
from promptyard.storage import db
from promptyard.storage.tables import Cell, CellStatus, Run, RunStatus

FAST = {"backoff_base_s": 0.01, "max_backoff_s": 0.5}


def _plan(
    ws: Any, models: list[str] | None = None, limit: int | None = 6, repeats: int = 1
) -> runs.RunPlan:
    return runs.plan_run(
        ws,
        [("summarize", None)],
        models or ["sim-fast"],
        ("summaries", None),
        slice=f"head:{limit}" if limit else None,
        repeats=repeats,
    )


def _run(ws: Any, plan: runs.RunPlan, **kwargs: Any) -> tuple[int, runs.RunSummary]:
    run_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in ("timeout_s", "max_attempts")}
    run_id = runs.create_run(ws, plan, **kwargs)
    return run_id, runs.run_sync(ws, run_id, **FAST, **run_kwargs)


def _cells(ws: Any, run_id: int) -> list[Cell]:
    with db.session(ws) as s:
        return list(s.execute(select(Cell).where(Cell.run_id == run_id)).scalars())


def _sim_key(cell: Cell, model: str = "sim-fast") -> str:
    return request_key(
        {
            "model": model,
            "user": f"promptyard-repeat-{cell.repeat}",
            "messages": json.loads(cell.messages_json),
        }
    )


# --- planning ------------------------------------------------------------------------


def test_plan_renders_every_cell_before_sending(workspace: Any, sim: SimulatorHandle) -> None:
    plan = _plan(workspace, ["sim-fast", "sim-smart"], limit=5, repeats=2)
    assert plan.calls == 1 * 2 * 5 * 2
    assert {v.label for v in plan.variants} == {
        "summarize v2 · sim-fast",
        "summarize v2 · sim-smart",
    }
    first = json.loads(plan.cells[0].messages_json)
    assert [m["role"] for m in first] == ["system", "user"]
    assert "order #48213" in first[1]["content"]
    # Repeats of one row differ in cache key; the same row on two models too.
    assert len({c.cache_key for c in plan.cells}) == plan.calls
    assert sim.calls == 0


def test_plan_reports_every_missing_variable_and_sends_nothing(
    workspace: Any, sim: SimulatorHandle
) -> None:
    rows = [
        {"id": "a", "customer_name": "Ann"},  # lacks product and message
        {"id": "b", "customer_name": "Bo", "product": "Lamp"},  # lacks message
        {"id": "c", "customer_name": "Cy", "product": "Lamp", "message": "hi"},
    ]
    from promptyard.models import resolve_model
    from promptyard.prompts.api import get_prompt

    spec = runs.VariantSpec(
        get_prompt("support_reply", workspace=workspace), resolve_model(workspace, "sim-fast")
    )
    with pytest.raises(runs.MissingColumnsError) as info:
        runs.build_plan([spec], rows)
    problems = info.value.problems
    text = " | ".join(problems)
    assert "'product'" in text and "'message'" in text
    assert "a" in info.value.missing[0].row_ids or "a" in info.value.missing[1].row_ids
    assert sum(len(m.row_ids) for m in info.value.missing) == 2  # rows a and b, not c
    assert sim.calls == 0


def test_estimate_counts_calls_tokens_cost_and_time(workspace: Any) -> None:
    plan = _plan(workspace, ["sim-fast", "sim-smart"], limit=4, repeats=3)
    est = runs.estimate(plan, concurrency=4)
    assert est.calls == 2 * 4 * 3
    assert est.prompt_tokens > 24 * 20  # every cell has a system prompt and a ticket
    assert est.completion_tokens_guess == 24 * 200  # max_tokens of summarize
    assert est.cost_usd is not None and est.cost_usd > 0
    assert est.seconds > 0


def test_estimate_shows_unknown_price_as_unknown(workspace: Any, sim: SimulatorHandle) -> None:
    (workspace.root / "models.yaml").write_text(
        f"models:\n  local:\n    model: openai/sim-fast\n    api_base: {sim.url}\n"
    )
    est = runs.estimate(_plan(workspace, ["local"]), concurrency=2)
    assert est.cost_usd is None
    assert est.unknown_price_models == ("local",)
    with pytest.raises(runs.PlanError, match="price of local is unknown"):
        runs.create_run(workspace, _plan(workspace, ["local"]), max_cost=1.0)


# --- execution -----------------------------------------------------------------------


def test_run_stores_every_cell_with_output_tokens_cost_latency(
    workspace: Any, sim: SimulatorHandle
) -> None:
    run_id, summary = _run(
        workspace, _plan(workspace, ["sim-fast", "sim-smart"], repeats=2), concurrency=4
    )
    assert summary.status == RunStatus.COMPLETED
    assert (summary.cells, summary.ok, summary.errors, summary.pending) == (24, 24, 0, 0)
    assert sim.calls == 24
    cells = _cells(workspace, run_id)
    for c in cells:
        assert c.status == CellStatus.OK and c.output
        assert c.prompt_tokens and c.completion_tokens and c.cost_usd and c.latency_ms
        assert c.attempts == 1 and not c.cached
    assert summary.cost_usd == pytest.approx(sum(c.cost_usd or 0 for c in cells))
    assert summary.wall_s is not None and summary.wall_s > 0


def test_retries_recover_from_server_errors(workspace: Any, sim: SimulatorHandle) -> None:
    sim.faults.fail_first = 4
    run_id, summary = _run(workspace, _plan(workspace, limit=3), concurrency=1)
    assert (summary.ok, summary.errors) == (3, 0)
    assert sim.calls == 3 + 4
    assert sum(c.attempts for c in _cells(workspace, run_id)) == 3 + 4


def test_rate_limit_retry_after_is_honoured(workspace: Any, sim: SimulatorHandle) -> None:
    sim.faults.rate_limit = True
    sim.faults.retry_after_s = 0.4

    def lift_after_two_calls() -> None:
        while sim.calls < 2:
            time.sleep(0.005)
        time.sleep(0.1)  # `calls` counts on arrival: let the 2nd request pass its fault check
        sim.faults.rate_limit = False

    threading.Thread(target=lift_after_two_calls, daemon=True).start()
    run_id, summary = _run(workspace, _plan(workspace, limit=2), concurrency=2)
    assert (summary.ok, summary.errors) == (2, 0)
    cells = _cells(workspace, run_id)
    # Each cell was refused once, then retried no sooner than Retry-After said.
    assert [c.attempts for c in cells] == [2, 2]
    for c in cells:
        assert c.started_at is not None and c.finished_at is not None
        assert (c.finished_at - c.started_at).total_seconds() >= 0.4


def test_failing_provider_never_aborts_the_run(workspace: Any, sim: SimulatorHandle) -> None:
    sim.faults.bad_request = True
    _, summary = _run(workspace, _plan(workspace, limit=3), concurrency=2)
    # no cell is ok: the run failed (it once read "completed"), counting errors per kind
    assert summary.status == RunStatus.FAILED
    assert (summary.ok, summary.errors, summary.pending) == (0, 3, 0)
    assert summary.errors_by_kind == {"bad_request": 3}
    assert sim.calls == 3  # a bad request is not retried
    assert "resume" in (summary.message or "") and "3 bad_request" in (summary.message or "")

    sim.faults.bad_request = False
    sim.faults.server_error = 503
    run_id, summary = _run(workspace, _plan(workspace, limit=2), concurrency=2, max_attempts=3)
    assert (summary.ok, summary.errors) == (0, 2)
    kinds = {c.error_kind for c in _cells(workspace, run_id)}
    assert kinds == {"server"}
    assert sim.calls == 3 + 2 * 3


def test_hung_calls_time_out(workspace: Any, sim: SimulatorHandle) -> None:
    sim.faults.hang = True
    run_id, summary = _run(
        workspace, _plan(workspace, limit=2), concurrency=2, timeout_s=0.5, max_attempts=2
    )
    assert (summary.ok, summary.errors) == (0, 2)
    assert {c.error_kind for c in _cells(workspace, run_id)} == {"timeout"}


def test_resume_sends_only_failed_and_missing_cells(workspace: Any, sim: SimulatorHandle) -> None:
    sim.faults.server_error = 500
    run_id, first = _run(workspace, _plan(workspace, limit=4), concurrency=2, max_attempts=1)
    assert first.errors == 4
    sim.faults.server_error = None
    sim.reset_counts()
    summary = runs.run_sync(workspace, run_id, **FAST)
    assert (summary.ok, summary.errors, summary.cells) == (4, 0, 4)
    assert sim.calls == 4
    sim.reset_counts()
    again = runs.run_sync(workspace, run_id, **FAST)
    assert again.ok == 4 and sim.calls == 0  # nothing left to send


def test_budget_cap_is_never_exceeded(workspace: Any, sim: SimulatorHandle) -> None:
    plan = _plan(workspace, ["sim-smart"], limit=None, repeats=2)
    one_call = runs.estimate(runs.RunPlan(plan.variants, plan.cells[:1]), 1).cost_usd
    assert one_call
    cap = one_call * 6
    run_id, summary = _run(workspace, plan, concurrency=4, max_cost=cap)
    cells = _cells(workspace, run_id)
    spent = sum(c.cost_usd or 0 for c in cells)
    assert 0 < spent <= cap
    assert summary.cost_usd <= cap
    assert summary.pending > 0 and summary.status == RunStatus.CANCELLED
    assert "budget" in (summary.message or "")
    assert sim.calls == summary.ok


def test_cache_serves_a_rerun_without_calls(workspace: Any, sim: SimulatorHandle) -> None:
    plan = _plan(workspace, ["sim-fast", "sim-smart"], limit=5)
    first_id, first = _run(workspace, plan, concurrency=4)
    assert sim.calls == 10
    sim.reset_counts()
    second_id, second = _run(
        workspace, _plan(workspace, ["sim-fast", "sim-smart"], limit=5), concurrency=4
    )
    assert sim.calls == 0
    assert (second.ok, second.cached, second.cost_usd) == (10, 10, 0.0)
    before = {(c.row_id, c.variant_id - 0): c.output for c in _cells(workspace, first_id)}
    assert sorted(c.output for c in _cells(workspace, second_id)) == sorted(before.values())
    # Off per run: the same plan without the cache calls the model again.
    _, third = _run(workspace, plan, concurrency=4, use_cache=False)
    assert sim.calls == 10 and third.cached == 0
    # A different repeat index is a different call.
    sim.reset_counts()
    _run(workspace, _plan(workspace, ["sim-fast"], limit=5, repeats=2), concurrency=4)
    assert sim.calls == 5


def test_cancel_stops_scheduling_and_resume_finishes(
    workspace: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = start_simulator(latency_ms=60)
    monkeypatch.setenv("PROMPTYARD_SIMULATOR_URL", slow.url)
    try:
        run_id = runs.create_run(workspace, _plan(workspace, limit=None, repeats=2), concurrency=2)

        def cancel_once_some_are_stored(done: int, total: int) -> None:
            if done >= 4:
                runs.cancel_run(workspace, run_id)

        summary = runs.run_sync(workspace, run_id, on_progress=cancel_once_some_are_stored, **FAST)
        assert summary.status == RunStatus.CANCELLED
        assert 4 <= summary.ok < 44 and summary.pending > 0
        ok_before = {c.id for c in _cells(workspace, run_id) if c.status == CellStatus.OK}
        calls_before = slow.calls
        done = runs.run_sync(workspace, run_id, **FAST)
        assert done.status == RunStatus.COMPLETED and done.ok == 44
        # Only the cells not stored before the cancel are sent (calls dropped in flight too).
        assert slow.calls - calls_before == 44 - len(ok_before)
        assert {c.id for c in _cells(workspace, run_id) if c.status == CellStatus.OK} >= ok_before
    finally:
        slow.stop()


def test_per_model_concurrency_and_rpm(
    workspace: Any, sim: SimulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workspace.root / "models.yaml").write_text(
        "models:\n"
        f"  narrow:\n    model: openai/sim-fast\n    api_base: {sim.url}\n    max_concurrency: 1\n"
        "    input_cost_per_token: 0.000001\n    output_cost_per_token: 0.000002\n"
        f"  paced:\n    model: openai/sim-smart\n    api_base: {sim.url}\n    rpm: 240\n"
    )
    in_flight = 0
    peak: dict[str, int] = {}
    from promptyard import models

    real = models.complete

    async def watch(call: Any, on_delta: Any = None) -> Any:
        nonlocal in_flight
        in_flight += 1
        peak[call.endpoint.name] = max(peak.get(call.endpoint.name, 0), in_flight)
        try:
            return await real(call, on_delta)
        finally:
            in_flight -= 1

    monkeypatch.setattr(models, "complete", watch)
    _, summary = _run(workspace, _plan(workspace, ["narrow"], limit=4), concurrency=8)
    assert summary.ok == 4 and peak["narrow"] == 1
    started = time.monotonic()
    _, summary = _run(workspace, _plan(workspace, ["paced"], limit=4), concurrency=8)
    # 240 rpm: one call every 0.25 s, so 4 calls span at least 0.75 s.
    assert summary.ok == 4 and peak["paced"] > 0 and time.monotonic() - started >= 0.75


def test_runs_list_progress_and_results(workspace: Any, sim: SimulatorHandle) -> None:
    run_id, _ = _run(workspace, _plan(workspace, limit=3), concurrency=2)
    found = runs.list_runs(workspace)
    assert [r.run_id for r in found] == [run_id]
    assert found[0].to_dict()["id"] == run_id and found[0].status == "completed"
    progress = runs.run_progress(workspace, run_id)
    assert (progress.done, progress.total, progress.fraction) == (3, 3, 1.0)
    rows = list(runs.iter_results(workspace, run_id))
    assert [r["row_id"] for r in rows] == ["s-001", "s-002", "s-003"]
    assert all(r["output"] and r["model"] == "sim-fast" for r in rows)


def test_dead_worker_shows_interrupted(workspace: Any, sim: SimulatorHandle) -> None:
    run_id = runs.create_run(workspace, _plan(workspace, limit=2))

    def fake_crash(s: Any) -> None:
        run = s.get(Run, run_id)
        run.status = RunStatus.RUNNING
        run.worker_pid = 2**22 + 12345  # no such process
        s.add(run)

    db.write(workspace, fake_crash)
    assert runs.run_summary(workspace, run_id).status == runs.INTERRUPTED
    summary = runs.run_sync(workspace, run_id, **FAST)
    assert summary.status == RunStatus.COMPLETED and summary.ok == 2


def test_execute_run_inside_a_running_loop(workspace: Any, sim: SimulatorHandle) -> None:
    run_id = runs.create_run(workspace, _plan(workspace, limit=2))
    seen: list[tuple[int, int]] = []

    async def go() -> runs.RunSummary:
        return await runs.execute_run(
            workspace, run_id, on_progress=lambda d, t: seen.append((d, t))
        )

    summary = asyncio.run(go())
    assert summary.ok == 2 and seen[-1] == (2, 2)


def test_a_finished_run_is_scored_by_the_code_only_suites_that_fit(
    workspace: Any, sim: SimulatorHandle
) -> None:
    """extract_invoice's suite has only code assertions: its scores appear after the run."""
    from promptyard.evals import stored_results

    plan = runs.plan_run(
        workspace, [("extract_invoice", None)], ["sim-json"], ("invoices", None), slice="head:3"
    )
    run_id, summary = _run(workspace, plan)
    assert summary.ok == 3
    results = stored_results(workspace, run_id)
    # Issue 15: the default checks score every finished run, beside the suites that fit.
    assert [r.suite for r in results] == ["default", "extract_invoice"]
    assert results[1].cells == 3
    # summarize's suite runs workspace code (keeps_numbers.py): never without being asked.
    summarize_run, _ = _run(workspace, _plan(workspace, limit=2))
    assert [r.suite for r in stored_results(workspace, summarize_run)] == ["default"]
