"""Outcomes that say what happened: missing keys, run status, unknown cost, total timeout."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import pytest
from sqlmodel import select

from promptyard import runs
from promptyard.models import ModelCall, SimulatorHandle, complete, resolve_model
from promptyard.storage import db
from promptyard.storage.tables import Cell, RunStatus
from tests.cli import run_cli

FAST = {"backoff_base_s": 0.01, "max_backoff_s": 0.2}


def _plan(ws: Any, models: list[str], limit: int = 3) -> runs.RunPlan:
    return runs.plan_run(
        ws, [("summarize", None)], models, ("summaries", None), slice=f"head:{limit}"
    )


def _cells(ws: Any, run_id: int) -> list[Cell]:
    with db.session(ws) as s:
        return list(s.execute(select(Cell).where(Cell.run_id == run_id)).scalars())


def test_an_unset_key_is_auth_and_never_sent(
    workspace: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    endpoint = resolve_model(workspace, "openai/gpt-4o-mini")
    call = ModelCall(endpoint=endpoint, messages=[{"role": "user", "content": "hi"}])
    result = asyncio.run(complete(call))
    assert result.error_kind == "auth" and not result.retryable
    assert "OPENAI_API_KEY" in (result.error_message or "")
    assert "openai/gpt-4o-mini" in (result.error_message or "")


def test_a_run_is_refused_before_it_starts_when_a_key_is_unset(
    workspace: Any, sim: SimulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PY_TEST_UNSET_KEY", raising=False)
    (workspace.root / "models.yaml").write_text(
        "models:\n  keyed:\n    model: openai/sim-fast\n"
        f"    api_base: {sim.url}\n    api_key_env: PY_TEST_UNSET_KEY\n"
    )
    plan = _plan(workspace, ["keyed"])
    with pytest.raises(runs.MissingKeyError) as err:
        runs.create_run(workspace, plan)
    assert "PY_TEST_UNSET_KEY" in str(err.value) and "keyed" in str(err.value)
    assert runs.list_runs(workspace) == []
    result = run_cli("run", "--prompt", "summarize", "--model", "keyed", "--dataset", "summaries")
    assert result.returncode == 1
    assert "PY_TEST_UNSET_KEY" in (result.stdout + result.stderr) and "keyed" in (
        result.stdout + result.stderr
    )
    assert sim.calls == 0
    # a run stored while the key was set is refused on resume once it is gone
    monkeypatch.setenv("PY_TEST_UNSET_KEY", "sk-test-present-123456")
    run_id = runs.create_run(workspace, plan)
    monkeypatch.delenv("PY_TEST_UNSET_KEY")
    with pytest.raises(runs.MissingKeyError):
        runs.run_sync(workspace, run_id)
    assert sim.calls == 0


def test_status_and_exit_code_say_whether_every_cell_is_ok(
    workspace: Any, sim: SimulatorHandle
) -> None:
    ok = run_cli(
        "run", "-p", "summarize", "-m", "sim-fast", "-d", "summaries", "--limit", "2", "--json"
    )
    assert ok.returncode == 0, ok.stdout
    assert json.loads(ok.stdout)["status"] == "completed"

    sim.faults.bad_request = True
    failed = run_cli(
        "run",
        "-p",
        "summarize",
        "-m",
        "sim-fast",
        "-d",
        "summaries",
        "--limit",
        "2",
        "--json",
        "--no-cache",
    )
    assert failed.returncode == 4, failed.stdout
    body = json.loads(failed.stdout)
    assert body["status"] == "failed" and body["errors_by_kind"] == {"bad_request": 2}
    assert body["cost_usd"] is None  # nothing answered: the cost is unknown, not $0

    sim.faults.bad_request = False
    sim.faults.fail_first = 1  # the first call fails with a 500, the rest succeed
    run_id = runs.create_run(
        workspace, _plan(workspace, ["sim-fast"], limit=3), concurrency=1, use_cache=False
    )
    summary = runs.run_sync(workspace, run_id, max_attempts=1, **FAST)
    assert (summary.ok, summary.errors) == (2, 1)
    assert summary.status == RunStatus.COMPLETED_WITH_ERRORS
    assert summary.errors_by_kind == {"server": 1} and "1 server" in (summary.message or "")
    listing = run_cli("runs", "list")
    assert "unknown" in listing.stdout  # the failed run's cost
    # a spend that is tiny but known is shown with its digits, never as nothing
    assert not re.search(r"\$0\.0000(?!\d)", listing.stdout.splitlines()[-1])


def test_a_cell_stops_at_its_total_timeout_across_attempts(
    workspace: Any, sim: SimulatorHandle
) -> None:
    sim.faults.hang = True
    run_id = runs.create_run(workspace, _plan(workspace, ["sim-fast"], limit=1), use_cache=False)
    t = time.monotonic()
    summary = runs.run_sync(
        workspace, run_id, timeout_s=0.4, total_timeout_s=1.0, max_attempts=5, **FAST
    )
    elapsed = time.monotonic() - t
    (cell,) = _cells(workspace, run_id)
    assert cell.error_kind == "timeout"
    assert cell.attempts < 5  # five attempts of 0.4 s would not fit in 1 s
    assert summary.status == RunStatus.FAILED
    assert elapsed < 5  # not 5 x (0.4 s + backoff): the bound held


def test_a_long_output_is_cut_and_marked_and_stored_once(
    workspace: Any, sim: SimulatorHandle
) -> None:
    run_id = runs.create_run(workspace, _plan(workspace, ["sim-fast"], limit=2), use_cache=False)
    runs.run_sync(workspace, run_id, max_output_bytes=24, **FAST)
    for cell in _cells(workspace, run_id):
        assert cell.status == "ok" and cell.output is not None
        assert len(cell.output.encode("utf-8")) <= 24
        assert cell.output_truncated is True
        raw = json.loads(cell.raw_response_json or "{}")
        # the answer is in `output` only, not a second time in the raw response
        # (since m024 a first choice with nothing of its own left is left out whole)
        assert raw.get("choices", [{}])[0].get("message", {}).get("content") is None
        assert cell.output[:10] not in (cell.raw_response_json or "")
    rows = list(runs.iter_results(workspace, run_id))
    assert all(r["output_truncated"] for r in rows)

    whole = runs.create_run(workspace, _plan(workspace, ["sim-fast"], limit=1), use_cache=False)
    runs.run_sync(workspace, whole, **FAST)
    (cell,) = _cells(workspace, whole)
    assert cell.output_truncated is False and len(cell.output or "") > 24


def test_the_estimate_uses_earlier_runs_of_the_same_prompt_and_model(
    workspace: Any, sim: SimulatorHandle
) -> None:
    plan = _plan(workspace, ["sim-fast"], limit=4)
    before = runs.estimate(plan, ws=workspace)
    assert [source for _, source in before.sources] == ["max_tokens"]  # the prompt sets it
    run_id = runs.create_run(workspace, plan, use_cache=False)
    runs.run_sync(workspace, run_id, **FAST)
    actual = sum(c.completion_tokens or 0 for c in _cells(workspace, run_id))
    after = runs.estimate(plan, ws=workspace)
    assert [source for _, source in after.sources] == ["history (4 cells)"]
    assert "history" in after.source_note
    # the same prompt, model and rows: the expected output is what the run returned
    assert abs(after.completion_tokens_guess - actual) <= 0.3 * actual
    assert abs(before.completion_tokens_guess - actual) > 0.3 * actual
    unset = runs.plan_run(
        workspace,
        [("summarize", None)],
        ["sim-smart"],
        ("summaries", None),
        slice="head:2",
        parameters={"max_tokens": None},
    )
    assert [s for _, s in runs.estimate(unset, ws=workspace).sources] == ["default (256 tokens)"]
