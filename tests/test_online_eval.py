"""Online evaluation: suites with `online:` score LLM spans received by the real collector,
each span once, sampled by span id, judges within a daily budget, failures left unscored."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from promptyard.evals.online import score_pending_now
from promptyard.evals.online_spans import sample_point
from promptyard.evals.suites import SuiteError, load_suite
from promptyard.models import SimulatorHandle
from promptyard.storage import db
from promptyard.traces import CollectorHandle, span_scores, start_collector
from promptyard.workspace import Workspace

TRACE = "5b8efff798038103d269b633813fc60c"

CODE_SUITE = """\
description: summaries mention the customer
prompts: [summarize]
online:
  sample: {sample}
  filter: {{label: production}}
assert:
  - type: icontains
    value: "{{{{customer}}}}"
    name: names-customer
  - type: equals
    value: "{{{{reference}}}}"
    name: matches-reference
"""

JUDGED_SUITE = """\
prompts: [summarize]
online:
  sample: 1.0
  judge_sample: 1.0
  judge_daily_budget_usd: {budget}
assert:
  - type: llm-rubric
    value: The summary is short.
    model: sim-smart
    parameters: {{max_tokens: 64}}
"""


@pytest.fixture
def collector(workspace: Workspace) -> Iterator[CollectorHandle]:
    handle = start_collector(workspace)
    yield handle
    handle.stop()


def _attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def llm_span(i: int, output: str, variables: dict[str, Any], label: str = "production") -> Any:
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "sim-fast",
        "gen_ai.usage.input_tokens": 20,
        "gen_ai.usage.output_tokens": 5,
        "gen_ai.input.messages": json.dumps(
            [{"role": "user", "parts": [{"type": "text", "content": "Summarize the ticket"}]}]
        ),
        "gen_ai.output.messages": json.dumps(
            [{"role": "assistant", "parts": [{"type": "text", "content": output}]}]
        ),
        "promptyard.prompt.name": "summarize",
        "promptyard.prompt.version": 1,
        "promptyard.prompt.label": label,
        "promptyard.prompt.variables": json.dumps(variables),
    }
    return {
        "traceId": TRACE,
        "spanId": f"{i + 1:016x}",
        "name": "chat sim-fast",
        "kind": 3,
        "startTimeUnixNano": str(1_700_000_000_000_000_000 + i * 1000),
        "endTimeUnixNano": str(1_700_000_000_250_000_000 + i * 1000),
        "attributes": [_attr(k, v) for k, v in attributes.items()],
    }


def send(collector: CollectorHandle, spans: list[dict[str, Any]]) -> None:
    body = json.dumps(
        {"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {}, "spans": spans}]}]}
    ).encode()
    request = urllib.request.Request(
        f"{collector.url}/v1/traces", body, {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def rows(ws: Workspace, sql: str) -> list[dict[str, Any]]:
    with db.get_engine(ws).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql))]


def test_code_evaluators_score_collected_spans_once_with_the_variables_as_row(
    workspace: Workspace, collector: CollectorHandle
) -> None:
    (workspace.evals_dir / "live.yaml").write_text(CODE_SUITE.format(sample=1.0))
    send(
        collector,
        [
            llm_span(
                0, "Ana wants a refund.", {"customer": "Ana", "reference": "Ana wants a refund."}
            ),
            llm_span(1, "Someone is upset.", {"customer": "Bo", "reference": "Bo is upset."}),
            llm_span(2, "Cy asks.", {"customer": "Cy", "reference": "x"}, label="staging"),
        ],
    )
    report = score_pending_now(workspace)
    assert (report.spans_read, report.spans_scored, report.scores) == (3, 2, 4)
    ids = {r["span_id"]: r["id"] for r in rows(workspace, "SELECT id, span_id FROM span")}
    scores = span_scores(workspace, ids.values())
    first = {s.evaluator: s.passed for s in scores[ids[f"{1:016x}"]]}
    second = {s.evaluator: s.passed for s in scores[ids[f"{2:016x}"]]}
    assert first == {"names-customer": True, "matches-reference": True}
    assert second == {"names-customer": False, "matches-reference": False}
    assert ids[f"{3:016x}"] not in scores  # the staging label is filtered out
    # Each span once: a second pass scores nothing; a new span alone gets scored.
    assert score_pending_now(workspace).scores == 0
    send(collector, [llm_span(3, "Di is fine.", {"customer": "Di", "reference": "no"})])
    again = score_pending_now(workspace)
    assert (again.spans_read, again.scores) == (1, 2)
    assert len(rows(workspace, "SELECT id FROM span_score")) == 6


def test_sampling_is_deterministic_by_span_id(
    workspace: Workspace, collector: CollectorHandle
) -> None:
    (workspace.evals_dir / "live.yaml").write_text(CODE_SUITE.format(sample=0.5))
    send(
        collector,
        [llm_span(i, "Ana.", {"customer": "Ana", "reference": "Ana."}) for i in range(40)],
    )
    score_pending_now(workspace)
    scored = {r["span_id"] for r in rows(workspace, "SELECT DISTINCT span_id FROM span_score")}
    expected = {
        f"{i + 1:016x}" for i in range(40) if sample_point("live", TRACE, f"{i + 1:016x}") < 0.5
    }
    assert scored == expected and 5 < len(scored) < 35
    # The same spans again (a fresh cursor): the same sample.
    with db.get_engine(workspace).begin() as conn:
        conn.execute(text("DELETE FROM span_score"))
        conn.execute(text("DELETE FROM online_cursor"))
    score_pending_now(workspace)
    again = {r["span_id"] for r in rows(workspace, "SELECT DISTINCT span_id FROM span_score")}
    assert again == expected


def test_judges_never_pass_the_daily_budget(
    workspace: Workspace, collector: CollectorHandle, sim: SimulatorHandle
) -> None:
    from promptyard.evals.judges import judge_cost_bound
    from promptyard.evals.online_spans import span_context
    from promptyard.storage.tables import Span

    (workspace.evals_dir / "judged.yaml").write_text(JUDGED_SUITE.format(budget=1.0))
    suite = load_suite(workspace, "judged", check_refs=False)
    rubric = suite.assertions[0]
    send(collector, [llm_span(i, "Ana wants a refund.", {"customer": "Ana"}) for i in range(12)])
    with db.session(workspace) as s:
        span = s.get(Span, 1)
        assert span is not None
        output, ctx = span_context(span)
    from promptyard.evals.online import reserved_assertion

    estimate = judge_cost_bound(output or "", ctx, reserved_assertion(rubric), workspace)
    assert estimate is not None and estimate > 0
    budget = 3 * estimate * 1.0001  # room for three reserved calls
    (workspace.evals_dir / "judged.yaml").write_text(JUDGED_SUITE.format(budget=budget))
    calls_before = sim.calls
    report = score_pending_now(workspace)
    made = sim.calls - calls_before
    recorded = rows(workspace, "SELECT * FROM span_score WHERE suite = 'judged'")
    spent = sum(r["judge_cost_usd"] or 0 for r in recorded)
    assert spent <= budget
    assert 3 <= made == report.judge_calls < 12
    assert len(recorded) == 12  # every span has its verdict or its reason
    skipped = [r for r in recorded if r["passed"] is None]
    assert len(skipped) == 12 - made
    assert all("daily judge budget" in r["reason"] for r in skipped)
    judged = [r for r in recorded if r["passed"] is not None]
    assert all(0 < r["judge_cost_usd"] <= estimate * 1.0001 for r in judged)
    # A budget worth N calls at the judge's actual price allows at most N calls.
    per_call = min(r["judge_cost_usd"] for r in judged)
    assert made <= budget // per_call
    # A second pass the same day makes no call: the budget is spent, the spans are done.
    send(collector, [llm_span(20, "Bo.", {"customer": "Bo"})])
    calls_before = sim.calls
    assert score_pending_now(workspace).judge_calls <= 1
    spent = sum(
        r["judge_cost_usd"] or 0
        for r in rows(workspace, "SELECT * FROM span_score WHERE suite = 'judged'")
    )
    assert spent <= budget


def test_a_failing_judge_leaves_the_span_unscored_with_the_reason(
    workspace: Workspace, collector: CollectorHandle, sim: SimulatorHandle
) -> None:
    (workspace.evals_dir / "judged.yaml").write_text(JUDGED_SUITE.format(budget=5.0))
    sim.faults.server_error = 500
    send(collector, [llm_span(0, "Ana wants a refund.", {"customer": "Ana"})])
    report = score_pending_now(workspace)
    assert report.unscored == 1
    (row,) = rows(workspace, "SELECT * FROM span_score")
    assert row["passed"] is None and row["score"] is None
    assert "judge call failed" in row["reason"]
    views = span_scores(workspace, [row["span_row_id"]])[row["span_row_id"]]
    assert not views[0].scored and "judge call failed" in (views[0].reason or "")


def test_bad_online_block_names_the_file_and_line(workspace: Workspace) -> None:
    (workspace.evals_dir / "bad.yaml").write_text(
        "prompts: [summarize]\nonline:\n  sample: 2\nassert:\n  - type: contains\n    value: x\n"
    )
    with pytest.raises(SuiteError, match=r"evals/bad.yaml line 2: online.sample must be"):
        load_suite(workspace, "bad", check_refs=False)
    (workspace.evals_dir / "bad.yaml").write_text(
        "prompts: [summarize]\nonline:\n  filter: {user: x}\nassert:\n  - type: contains\n    value: x\n"
    )
    with pytest.raises(SuiteError, match=r"unknown online.filter key 'user'"):
        load_suite(workspace, "bad", check_refs=False)
    (workspace.evals_dir / "bad.yaml").write_text(
        "prompts: [p]\nonline: {judge_sample: 0.5}\nassert:\n  - type: contains\n    value: x\n"
    )
    with pytest.raises(SuiteError, match=r"line 2: online.judge_sample needs"):
        load_suite(workspace, "bad", check_refs=False)


def test_cli_online_eval_once_and_the_worker_job(
    workspace: Workspace, collector: CollectorHandle
) -> None:
    from promptyard import runs
    from promptyard.evals.online_jobs import enqueue_online_eval

    (workspace.evals_dir / "live.yaml").write_text(CODE_SUITE.format(sample=1.0))
    send(collector, [llm_span(0, "Ana.", {"customer": "Ana", "reference": "Ana."})])
    out = subprocess.run(
        [sys.executable, "-m", "promptyard", "online-eval", "--once", "--json"],
        capture_output=True,
        text=True,
        cwd=workspace.root,
        check=True,
    )
    assert json.loads(out.stdout)["scores"] == 2
    send(collector, [llm_span(1, "Bo.", {"customer": "Bo", "reference": "Bo."})])
    job_id = enqueue_online_eval(workspace)
    assert job_id is not None
    import asyncio

    # The worker process runs the job; wait for it through the handler's own end.
    for _ in range(600):
        info = runs.get_job(workspace, job_id)
        if not info.running:
            break
        asyncio.run(asyncio.sleep(0.05))
    assert info.status == runs.JobStatus.COMPLETED, info.message
    assert info.result["scores"] == 2
    assert len(rows(workspace, "SELECT id FROM span_score")) == 4


def test_a_span_whose_judge_was_reserved_is_not_judged_again(
    workspace: Workspace, collector: CollectorHandle, sim: SimulatorHandle
) -> None:
    # A process killed mid-call leaves its reservation and the cursor unmoved.
    (workspace.evals_dir / "judged.yaml").write_text(JUDGED_SUITE.format(budget=5.0))
    send(
        collector,
        [llm_span(0, "Ana.", {"customer": "Ana"}), llm_span(1, "Bo.", {"customer": "Bo"})],
    )
    with db.get_engine(workspace).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO span_score (span_row_id, trace_id, span_id, suite, evaluator, reason,"
                " judge_cost_usd, created_at) VALUES (1, :t, :s, 'judged', 'llm-rubric',"
                " 'judge call under way (cost reserved)', 0.01, CURRENT_TIMESTAMP)"
            ),
            {"t": TRACE, "s": f"{1:016x}"},
        )
    calls_before = sim.calls
    report = score_pending_now(workspace)
    assert report.judge_calls == 1 and sim.calls - calls_before == 1
    per_span = rows(
        workspace, "SELECT span_row_id, COUNT(*) AS n FROM span_score GROUP BY span_row_id"
    )
    assert {r["span_row_id"]: r["n"] for r in per_span} == {1: 1, 2: 1}


def test_the_poller_enqueues_a_worker_that_scores_new_spans(
    workspace: Workspace, collector: CollectorHandle
) -> None:
    import time

    from promptyard.evals.online_jobs import active_online_job, start_online_poller

    (workspace.evals_dir / "live.yaml").write_text(CODE_SUITE.format(sample=1.0))
    stop = start_online_poller(workspace, interval_s=0.2)
    try:
        send(collector, [llm_span(0, "Ana.", {"customer": "Ana", "reference": "Ana."})])
        for _ in range(600):  # until the worker it started has stored the scores
            found = rows(workspace, "SELECT passed FROM span_score")
            if len(found) == 2:
                break
            time.sleep(0.1)
    finally:
        stop.set()
        for _ in range(600):  # let the last worker end before the workspace goes
            if active_online_job(workspace) is None:
                break
            time.sleep(0.1)
    assert [bool(r["passed"]) for r in found] == [True, True]
    jobs = rows(workspace, "SELECT kind, status FROM job")
    assert jobs and all(j["kind"] == "online_eval" for j in jobs)
