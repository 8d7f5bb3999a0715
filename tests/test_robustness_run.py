"""Robustness runs on the examples: originals and variants sent, linked, scored, reported."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from promptyard import robustness as rb
from promptyard.runs import run_sync
from promptyard.storage import db
from promptyard.storage.payloads import fill_payloads
from promptyard.storage.tables import Cell, Run, Score
from promptyard.storage.tables_robustness import CellPerturbation
from tests.cli import run_cli

LOCAL = "case,punctuation,whitespace,typos,word-order,synonyms"


def _run(workspace, kinds: str = LOCAL, models=("sim-fast", "echo"), **kw):  # type: ignore[no-untyped-def]
    rplan = rb.plan_robustness(
        workspace,
        [("support_reply", "v1"), ("support_reply", None)],
        list(models),
        ("tickets", None),
        slice="head:6",
        kinds=kinds,
        seed=5,
        **kw,
    )
    run_id = rb.create_robustness_run(workspace, rplan)
    run_sync(workspace, run_id)
    return rplan, run_id


def test_a_run_sends_originals_and_variants_and_links_each_variant_to_its_original(
    workspace, sim
) -> None:  # type: ignore[no-untyped-def]
    rplan, run_id = _run(workspace)
    assert rplan.columns == ["message"]  # the free-text column the prompt uses, not names
    assert rplan.originals == 6
    variants = len(rplan.perturbations.rows)
    assert rplan.plan.calls == (6 + variants) * 4  # 2 versions x 2 models
    with db.session(workspace) as s:
        run = s.get(Run, run_id)
        assert run is not None and run.kind == "robustness"
        links = (
            s.execute(select(CellPerturbation).where(CellPerturbation.run_id == run_id))
            .scalars()
            .all()
        )
        cells = {c.id: c for c in s.execute(select(Cell).where(Cell.run_id == run_id)).scalars()}
        fill_payloads(s, cells.values())  # the run's shared rows (m024)
    assert len(links) == variants * 4
    for link in links:
        variant, original = cells[link.cell_id], cells[link.original_cell_id]
        assert variant.row_id == f"{link.original_row_id}~{link.kind}"
        assert original.row_id == link.original_row_id
        assert (variant.variant_id, variant.repeat) == (original.variant_id, original.repeat)
        assert (
            json.loads(variant.inputs_json)["message"]
            != json.loads(original.inputs_json)["message"]
        )
    assert sim.calls > 0


def test_the_report_has_a_consistency_figure_per_kind_version_and_model(workspace, sim) -> None:  # type: ignore[no-untyped-def]
    rplan, run_id = _run(workspace)
    report = rb.score_robustness(workspace, run_id)
    assert report.measure == "exact"
    labels = report.labels()
    assert labels == [
        "support_reply v1 · sim-fast",
        "support_reply v1 · echo",
        "support_reply v2 · sim-fast",
        "support_reply v2 · echo",
    ]
    kinds = [kind for kind, _ in report.matrix()]
    assert kinds[-1] == "all" and set(kinds[:-1]) <= set(LOCAL.split(","))
    by = {(f.kind, f.model, f.prompt_version): f for f in report.figures}
    # `echo` answers with its prompt: a case change normalises away, a typo never does.
    assert by[("case", "echo", 2)].consistency == 1.0
    assert by[("typos", "echo", 2)].consistency == 0.0
    skipped = report.skipped
    assert skipped == rplan.skipped and skipped["word-order"] > 0
    # Each kind's pairs are the rows it could apply to.
    assert by[("word-order", "echo", 2)].pairs == 6 - skipped["word-order"]
    with db.session(workspace) as s:
        scores = s.execute(select(Score).where(Score.run_id == run_id)).scalars().all()
    stored = [x for x in scores if x.suite == "robustness"]
    assert len(stored) == len(rplan.perturbations.rows) * 4
    # Re-scoring under another measure replaces the verdicts instead of adding to them.
    again = rb.score_robustness(workspace, run_id, rb.measure_spec("similarity", threshold=0.5))
    assert again.measure == "similarity>=0.5"
    with db.session(workspace) as s:
        n = len(
            s.execute(
                select(Score).where(Score.run_id == run_id, Score.suite == "robustness")
            ).all()
        )
    assert n == len(stored)
    assert again.overall[1].consistency >= report.overall[1].consistency  # echo, looser measure


def test_an_assertion_verdict_and_an_llm_judge_are_measures_too(workspace, sim) -> None:  # type: ignore[no-untyped-def]
    _, run_id = _run(workspace, kinds="case,typos", models=("sim-fast",))
    verdicts = rb.score_robustness(
        workspace, run_id, rb.measure_spec("assertion", assertion="icontains:Dana")
    )
    assert verdicts.measure == "assertion:icontains:Dana"
    assert all(f.pairs and f.errors == 0 for f in verdicts.figures)
    calls = sim.calls
    judged = rb.score_robustness(workspace, run_id, rb.measure_spec("judge"))
    assert judged.measure == "judge"
    assert sim.calls > calls  # the judge asked the model, once per pair
    assert sum(f.pairs + f.errors for f in judged.figures) == sum(f.pairs for f in verdicts.figures)


def test_paraphrase_goes_through_the_workspace_prompt_on_the_chosen_model(workspace, sim) -> None:  # type: ignore[no-untyped-def]
    first = rb.plan_robustness(
        workspace,
        [("summarize", None)],
        ["sim-fast"],
        ("summaries", None),
        slice="head:3",
        kinds="paraphrase",
        paraphrase_model="sim-smart",
        seed=2,
    )
    again = rb.plan_robustness(
        workspace,
        [("summarize", None)],
        ["sim-fast"],
        ("summaries", None),
        slice="head:3",
        kinds="paraphrase",
        paraphrase_model="sim-smart",
        seed=2,
    )
    assert [v.row for v in first.perturbations.rows] == [v.row for v in again.perturbations.rows]
    assert len(first.perturbations.rows) + first.skipped["paraphrase"] == 3
    asked = [r for r in sim.requests if r.get("model") == "sim-smart"]
    assert asked and "rewrite" in json.dumps(asked[-1]["messages"]).lower()


def test_bad_settings_are_one_line_errors_and_nothing_is_stored(workspace) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(rb.PerturbationError, match="no column 'msg' in dataset tickets"):
        rb.plan_robustness(
            workspace, [("support_reply", None)], ["sim-fast"], ("tickets", None), columns=["msg"]
        )
    with pytest.raises(rb.PerturbationError, match="--measure: unknown measure 'same'"):
        rb.measure_spec("same")
    with pytest.raises(rb.PerturbationError, match="needs --assert"):
        rb.measure_spec("assertion")
    with db.session(workspace) as s:
        assert s.execute(select(Run)).first() is None


def test_cli_prints_the_table_and_fails_ci_below_the_threshold(workspace, sim) -> None:  # type: ignore[no-untyped-def]
    args = (
        "robustness",
        "--prompt",
        "support_reply@v1",
        "--prompt",
        "support_reply",
        "--model",
        "echo",
        "--dataset",
        "tickets",
        "--slice",
        "head:4",
        "--kinds",
        "case,typos",
        "--seed",
        "3",
    )
    text = run_cli(*args, home=workspace.root, check=True)
    assert "support_reply v1 · echo" in text.stdout and "case" in text.stdout
    assert "100% (4/4)" in text.stdout  # echo under a case change, exact after normalising
    failed = run_cli(*args, "--min-consistency", "0.9", "--json", home=workspace.root)
    assert failed.returncode == 1
    report = json.loads(failed.stdout)
    assert report["passed"] is False and report["measure"] == "exact"
    figures = {(r["kind"], r["version"], r["model"]): r["consistency"] for r in report["results"]}
    assert figures[("case", "v1", "echo")] == 1.0 and figures[("typos", "v2", "echo")] == 0.0
    assert {b["kind"] for b in report["below"]} == {"typos"}
    passed = run_cli(
        "robustness",
        "--run",
        str(report["run_id"]),
        "--min-consistency",
        "0",
        "--json",
        home=workspace.root,
    )
    assert passed.returncode == 0 and json.loads(passed.stdout)["passed"] is True
    bad = run_cli(*args[:-4], "--kinds", "case,typo", home=workspace.root)
    assert bad.returncode == 1 and "unknown perturbation 'typo'" in bad.stderr
    missing = run_cli("robustness", "--run", "999", home=workspace.root)
    assert missing.returncode == 1 and "no run 999" in missing.stderr


def test_a_gate_where_every_call_failed_does_not_pass(workspace, sim) -> None:  # type: ignore[no-untyped-def]
    sim.faults.bad_request = True  # every call refused, none retried
    result = run_cli(
        "robustness",
        "--prompt",
        "support_reply",
        "--model",
        "sim-fast",
        "--dataset",
        "tickets",
        "--slice",
        "head:2",
        "--kinds",
        "case",
        "--min-consistency",
        "0.5",
        "--json",
        home=workspace.root,
    )
    assert result.returncode == 1
    assert "no pair could be compared" in result.stderr
    report = json.loads(result.stdout)
    assert all(
        r["consistency"] is None and r["errors"] == r["pairs"] + 2 for r in report["results"]
    )
