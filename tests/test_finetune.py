"""Fine-tuning exports from the examples: SFT and DPO files that pass OpenAI's checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from promptyard import evals, ratings, runs
from promptyard import finetune as ft
from promptyard.storage import db
from tests import traces_seed
from tests.cli import run_cli

SFT_KEYS = {"messages"}
DPO_KEYS = {"input", "preferred_output", "non_preferred_output"}


def _example_run(workspace) -> tuple[int, list[int]]:  # type: ignore[no-untyped-def]
    plan = runs.plan_run(
        workspace,
        [("support_reply", None)],
        ["sim-fast", "sim-smart"],
        ("tickets", None),
        slice="head:5",
    )
    run_id = runs.create_run(workspace, plan)
    runs.run_sync(workspace, run_id)
    with db.session(workspace) as s:
        cells = [
            r[0]
            for r in s.connection().execute(
                text("SELECT id FROM cell WHERE run_id = :r ORDER BY id"), {"r": run_id}
            )
        ]
    return run_id, cells


def _outputs(workspace, ids: list[int]) -> dict[int, str]:  # type: ignore[no-untyped-def]
    with db.session(workspace) as s:
        rows = s.connection().execute(text("SELECT id, output FROM cell")).all()
    return {r.id: r.output for r in rows if r.id in ids}


def _lines(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_sft_export_takes_cells_over_the_bar_and_passes_the_checks(
    workspace, sim, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    run_id, cells = _example_run(workspace)
    good, bad = cells[:3], cells[3:5]
    for c in good:
        ratings.rate_cell(workspace, c, "quality", 5, "ann")
    for c in bad:
        ratings.rate_cell(workspace, c, "quality", 2, "ann")
    out = tmp_path / "sft.jsonl"
    result = run_cli(
        "export",
        "finetune",
        str(run_id),
        "--format",
        "sft",
        "--scheme",
        "quality",
        "--out",
        str(out),
        home=workspace.root,
        check=True,
    )
    assert "3 SFT example(s) (3 from ratings)" in result.stdout
    assert "estimated cost $" in result.stdout and f"wrote {out}" in result.stdout
    lines = _lines(out)
    assert len(lines) == 3
    outputs = _outputs(workspace, good)
    for line, cell in zip(lines, good, strict=True):
        assert set(line) == SFT_KEYS
        roles = [m["role"] for m in line["messages"]]
        assert roles == ["system", "user", "assistant"]
        assert all(set(m) == {"role", "content"} for m in line["messages"])
        assert line["messages"][-1]["content"] == outputs[cell]
    checked = ft.validate_examples(ft.read_jsonl(out.read_text()), "sft", "gpt-4o-mini")
    assert checked.ok and checked.examples == 3 and checked.over_limit == 0
    assert all(n > 20 for n in checked.tokens)


def test_sft_falls_back_to_suite_scores_for_unrated_cells(workspace, sim) -> None:  # type: ignore[no-untyped-def]
    run_id, cells = _example_run(workspace)
    evals.score_run(workspace, run_id, "support_reply")
    ratings.rate_cell(workspace, cells[0], "thumbs", False, "ann")  # people outrank the suite
    with db.session(workspace) as s:
        suite = dict(
            s.connection()
            .execute(
                text("SELECT cell_id, value FROM score WHERE evaluator = 'suite' AND name = 'row'")
            )
            .all()
        )
    assert suite[cells[0]] is not None
    export = ft.build_finetune(workspace, [run_id], "sft", min_score=0.01)
    over = [c for c in cells[1:] if suite[c] >= 0.01]
    assert export.collected.sources == {"suite": len(over)}  # the thumbs-down cell is out
    assert export.collected.below_bar == len(cells) - len(over)
    assert export.validation.ok


def test_dpo_export_pairs_the_side_the_votes_chose(workspace, sim, tmp_path) -> None:  # type: ignore[no-untyped-def]
    run_id, _ = _example_run(workspace)
    pairs = ratings.make_pairs(workspace, run_id)
    assert len(pairs) == 5
    chosen = {}
    for i, pair in enumerate(pairs):
        choice = ["a", "b", "tie", "a", "b"][i]
        ratings.record_vote(workspace, pair, choice, "ann")
        if choice != "tie":
            chosen[pair.row_id] = pair.cell_a_id if choice == "a" else pair.cell_b_id
    ratings.record_vote(workspace, pairs[0], "b", "bo")  # one vote each way: no winner
    del chosen[pairs[0].row_id]
    out = tmp_path / "dpo.jsonl"
    result = run_cli(
        "export",
        "finetune",
        str(run_id),
        "--format",
        "dpo",
        "--out",
        str(out),
        "--json",
        home=workspace.root,
        check=True,
    )
    summary = json.loads(result.stdout)
    assert (
        summary["examples"] == 3 and summary["unscored"] == 2 and summary["estimated_cost_usd"] > 0
    )
    lines = _lines(out)
    winners = _outputs(workspace, list(chosen.values()))
    assert sorted(line["preferred_output"][0]["content"] for line in lines) == sorted(
        winners.values()
    )
    for line in lines:
        assert set(line) == DPO_KEYS and set(line["input"]) == {"messages"}
        assert [m["role"] for m in line["input"]["messages"]] == ["system", "user"]
        for side in ("preferred_output", "non_preferred_output"):
            assert len(line[side]) == 1 and line[side][0]["role"] == "assistant"
            assert line[side][0]["content"].strip()
        assert line["preferred_output"] != line["non_preferred_output"]
    assert ft.validate_examples(lines, "dpo", "gpt-4o-mini-2024-07-18").ok


def test_nothing_over_the_bar_writes_no_file_and_says_why(workspace, sim, tmp_path) -> None:  # type: ignore[no-untyped-def]
    run_id, cells = _example_run(workspace)
    ratings.rate_cell(workspace, cells[0], "quality", 3, "ann")
    out = tmp_path / "none.jsonl"
    result = run_cli("export", "finetune", str(run_id), "--out", str(out), home=workspace.root)
    assert result.returncode == 1 and not out.exists()
    assert "no answered cell clears --min-score 0.75 (the best score is 0.50)" in result.stderr
    assert "no file written" in result.stderr
    votes = run_cli(
        "export", "finetune", str(run_id), "--format", "dpo", "--out", str(out), home=workspace.root
    )
    assert votes.returncode == 1 and "no blind A/B votes" in votes.stderr and not out.exists()
    for args, message in [
        (("--format", "kto"), "--format must be sft or dpo, not 'kto'"),
        (("--min-score", "7"), "--min-score must be between 0 and 1"),
        (("--scheme", "stars"), "--scheme: unknown rating scheme 'stars'"),
    ]:
        bad = run_cli(
            "export", "finetune", str(run_id), *args, "--out", str(out), home=workspace.root
        )
        assert bad.returncode == 1 and message in bad.stderr and not out.exists()
    missing = run_cli("export", "finetune", "999", home=workspace.root)
    assert missing.returncode == 1 and "no run 999" in missing.stderr


def test_traces_with_feedback_become_examples_and_pairs(workspace) -> None:  # type: ignore[no-untyped-def]
    same = {"text": "the lamp will not connect"}
    traces_seed.add(
        workspace,
        traces_seed.llm_span(1, output="Reset the lamp: hold the button for 10 s."),
        traces_seed.llm_span(2, output="No idea.", variables=same),
        traces_seed.llm_span(
            3, output="Hold the button 10 s, then re-add it in the app.", variables=same
        ),
        traces_seed.feedback(1, 1.0),
        traces_seed.feedback(2, 0.0),
        traces_seed.feedback(3, 1.0),
    )
    sft = ft.build_finetune(workspace, [], "sft", traces=True)
    assert sft.count == 2 and sft.collected.below_bar == 1 and sft.validation.ok
    assert {e["messages"][-1]["content"] for e in sft.collected.examples} == {
        "Reset the lamp: hold the button for 10 s.",
        "Hold the button 10 s, then re-add it in the app.",
    }
    dpo = ft.build_finetune(workspace, [], "dpo", traces=True)
    assert dpo.count == 1 and dpo.validation.ok
    pair = dpo.collected.examples[0]
    assert pair["preferred_output"][0]["content"].startswith("Hold the button 10 s")
    assert pair["non_preferred_output"][0]["content"] == "No idea."


def test_a_key_in_an_output_never_reaches_the_file(workspace, sim, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    key = "sk-test-abcdefghijklmnopqrstuvwxyz123456"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    run_id, cells = _example_run(workspace)
    db.write(
        workspace,
        lambda s: s.connection().execute(
            text("UPDATE cell SET output = :o WHERE id = :i"),
            {"o": f"use {key} here", "i": cells[0]},
        ),
    )
    ratings.rate_cell(workspace, cells[0], "thumbs", True, "ann")
    path = ft.write_finetune(ft.build_finetune(workspace, [run_id]), tmp_path / "k.jsonl")
    assert key not in path.read_text() and "***" in path.read_text()


def test_the_checks_name_each_problem_and_its_first_line() -> None:
    good = {
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    }
    examples = [
        good,
        good,  # a duplicate
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": " "}]},
        {"messages": [{"role": "robot", "content": "hi"}, {"role": "assistant", "content": "x"}]},
        {"messages": [{"role": "user", "content": "hi"}]},
        {
            "messages": [
                {"role": "user", "content": "word " * 20_000},
                {"role": "assistant", "content": "ok"},
            ]
        },
    ]
    v = ft.validate_examples(examples, "sft", "gpt-3.5-turbo")
    assert not v.ok and v.duplicates == 1 and v.over_limit == 1 and v.limit == 16_385
    described = v.describe()
    assert "messages: empty assistant message: 1 example(s), first on line 3" in described
    assert "messages: unrecognised role 'robot': 1 example(s), first on line 4" in described
    assert "messages: no assistant message: 1 example(s), first on line 5" in described
    pairs = [
        {
            "input": {"messages": [{"role": "user", "content": "q"}]},
            "preferred_output": [{"role": "assistant", "content": "a"}],
            "non_preferred_output": [{"role": "assistant", "content": "a"}],
        }
    ]
    assert (
        "preferred and non-preferred outputs are the same"
        in ft.validate_examples(pairs, "dpo", "x").describe()[0]
    )


def test_the_training_cost_follows_the_cookbook_and_unknown_stays_unknown() -> None:
    assert ft.default_epochs(10) == 10  # 10 x 3 < 100: raised to 100 // 10
    assert ft.default_epochs(2) == 25  # capped
    assert ft.default_epochs(500) == 3
    assert ft.default_epochs(20_000) == 1
    estimate = ft.estimate_training_cost("gpt-4o-mini", [1_000] * 50)
    assert estimate.epochs == 3 and estimate.training_tokens == 150_000
    assert estimate.usd == pytest.approx(150_000 * 3.00 / 1_000_000)
    assert ft.estimate_training_cost("my-own-model", [1_000]).usd is None
    capped = ft.estimate_training_cost("gpt-3.5-turbo-0125", [20_000], epochs=1)
    assert capped.billed_tokens_per_epoch == 16_385  # an over-long example is cut to the limit
