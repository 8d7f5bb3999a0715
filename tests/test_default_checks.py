"""Every finished run is scored by the default checks (no judge, no suite file needed)."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from promptyard import runs
from promptyard.evals.default_checks import DEFAULT_SUITE, asks_for_json
from promptyard.prompts import prompt_text, save_prompt
from promptyard.reading import column_summaries
from promptyard.storage import db
from promptyard.storage.tables import Score


def _run(ws: Any, prompt: str, model: str, dataset: str, head: int = 3) -> int:
    plan = runs.plan_run(ws, [(prompt, None)], [model], (dataset, None), slice=f"head:{head}")
    run_id = runs.create_run(ws, plan)
    runs.run_sync(ws, run_id)
    return run_id


def _scores(ws: Any, run_id: int) -> dict[str, list[bool | None]]:
    with db.session(ws) as s:
        rows = s.exec(
            select(Score).where(Score.run_id == run_id, Score.suite == DEFAULT_SUITE)
        ).all()
    out: dict[str, list[bool | None]] = {}
    for r in rows:
        out.setdefault(r.name, []).append(r.passed)
    return out


def test_a_plain_run_gets_non_empty_and_a_pass_rate(workspace, sim) -> None:  # type: ignore[no-untyped-def]
    run_id = _run(workspace, "summarize", "sim-fast", "summaries")
    scores = _scores(workspace, run_id)
    assert scores["non-empty"] == [True, True, True]
    assert "valid JSON" not in scores
    [summary] = column_summaries(workspace, [run_id])
    assert summary.pass_rate == 1.0 and summary.cells == 3


def test_a_prompt_asking_for_json_gets_the_json_check(workspace, sim) -> None:  # type: ignore[no-untyped-def]
    run_id = _run(workspace, "extract_invoice", "sim-json", "invoices")
    scores = _scores(workspace, run_id)
    assert len(scores["valid JSON"]) == 3 and len(scores["non-empty"]) == 3


def test_the_prompts_own_assertions_from_its_front_matter(workspace, sim) -> None:  # type: ignore[no-untyped-def]
    text = prompt_text("summarize", workspace=workspace)
    text = text.replace(
        "---\n", "---\nmetadata:\n  assert:\n    - type: icontains\n      value: zzz-never\n", 1
    )
    save_prompt("summarize", text, "declare an assertion", workspace=workspace)
    run_id = _run(workspace, "summarize", "sim-fast", "summaries", head=2)
    scores = _scores(workspace, run_id)
    assert scores["icontains"] == [False, False]
    [summary] = column_summaries(workspace, [run_id])
    assert summary.pass_rate == 0.0


def test_asks_for_json() -> None:
    assert asks_for_json({"response_format": {"type": "json_object"}})
    assert asks_for_json({}, {"outputs": [{"name": "x"}]})
    assert not asks_for_json({"temperature": 0}, {"name": "p"})
