"""One robustness run read three ways: the consistency report (Compare's table, the CLI),
the dashboard's robustness column and the pairs beside their originals; they all tell the
same figures, from the same stored verdicts."""

from __future__ import annotations

from typing import Any

from promptyard import reading
from promptyard import robustness as rb
from promptyard.runs import run_sync
from tests.cli import run_cli


def _run(
    workspace: Any, prompt: tuple[str, str | None], models: list[str], send: bool = True, **kw: Any
) -> int:
    rplan = rb.plan_robustness(workspace, [prompt], models, ("tickets", None), seed=1, **kw)
    run_id = rb.create_robustness_run(workspace, rplan)
    if send:
        run_sync(workspace, run_id)
    return run_id


def test_dashboard_report_and_cli_tell_the_same_figures(workspace: Any, sim: Any) -> None:
    run_id = _run(
        workspace, ("support_reply", None), ["echo", "sim-fast"], slice="head:4", kinds="case,typos"
    )
    report = rb.score_robustness(workspace, run_id)
    by_kind = {(f.kind, f.model): (f.consistent, f.pairs, f.errors) for f in report.figures}
    # `echo` answers with its prompt: a case change normalises away, a typo never does.
    assert by_kind[("case", "echo")] == (4, 4, 0)
    assert by_kind[("typos", "echo")] == (0, 4, 0)
    overall = {f.model: f for f in report.overall}
    assert (overall["echo"].consistent, overall["echo"].pairs) == (4, 8)

    dashboard = {
        f.model: f for f in rb.robustness_by_variant(workspace) if f.prompt_name == "support_reply"
    }
    assert set(dashboard) == {"echo", "sim-fast"}
    for model, figure in dashboard.items():
        assert (figure.run_id, figure.measure, figure.prompt_version) == (run_id, "exact", 2)
        assert (figure.consistent, figure.pairs) == (
            overall[model].consistent,
            overall[model].pairs,
        )
        assert figure.by_kind == {
            f.kind: f.consistency for f in report.figures if f.model == model and f.pairs
        }
    assert dashboard["echo"].consistency == 0.5
    assert dashboard["echo"].by_kind == {"case": 1.0, "typos": 0.0}
    assert dashboard["echo"].worst_kind == "typos"

    text = run_cli("robustness", "--run", str(run_id), home=workspace.root, check=True).stdout
    echo_row = {line.split()[0]: line for line in text.splitlines()[3:]}
    assert "100% (4/4)" in echo_row["case"] and "0% (0/4)" in echo_row["typos"]
    assert "50% (4/8)" in echo_row["all"]

    # Every pair the page lists is a pair the scorer compared, with the same outputs.
    page = reading.perturbation_pairs(workspace, run_id, limit=1000)
    scored = rb.load_pairs(workspace, run_id)
    assert page.total == len(page.pairs) == len(scored) == 16
    assert [
        (p.variant_cell_id, p.original_output, p.variant_output, p.variant_inputs)
        for p in page.pairs
    ] == [
        (p.variant_cell_id, p.original_output, p.variant_output, p.variant_inputs) for p in scored
    ]
    broken = reading.perturbation_pairs(workspace, run_id, kind="typos", broken_only=True)
    assert broken.total == 4 + by_kind[("typos", "sim-fast")][1] - by_kind[("typos", "sim-fast")][0]
    assert all(p.consistent is False and p.kind == "typos" for p in broken.pairs)


def test_a_run_whose_calls_all_failed_has_errors_and_no_figure(workspace: Any, sim: Any) -> None:
    sim.faults.bad_request = True  # every call refused, none retried
    run_id = _run(workspace, ("support_reply", "v1"), ["echo"], slice="head:2", kinds="case")
    sim.faults.clear()
    report = rb.score_robustness(workspace, run_id)
    assert [(f.kind, f.pairs, f.errors, f.consistency) for f in report.figures] == [
        ("case", 0, 2, None)
    ]
    assert [(f.pairs, f.errors) for f in report.overall] == [(0, 2)]
    (figure,) = [f for f in rb.robustness_by_variant(workspace) if f.run_id == run_id]
    assert (figure.pairs, figure.consistent, figure.consistency) == (0, 0, None)
    assert figure.by_kind == {} and figure.worst_kind is None
    # The page shows the failure as the cell has it; the scorer says why it could not compare.
    (pair,) = reading.perturbation_pairs(workspace, run_id, kind="case", limit=1).pairs
    assert pair.original_output is None and pair.original_error
    assert pair.consistent is None and pair.reason and "call failed" in pair.reason


def test_an_unsent_run_is_not_sent_to_the_scorer_and_blank_on_the_page(workspace: Any) -> None:
    run_id = _run(
        workspace, ("support_reply", None), ["echo"], send=False, slice="head:1", kinds="case"
    )
    (scored,) = rb.load_pairs(workspace, run_id)
    assert (scored.original_error, scored.variant_error) == ("not sent", "not sent")
    (shown,) = reading.perturbation_pairs(workspace, run_id).pairs
    assert (shown.original_output, shown.original_error, shown.consistent) == (None, None, None)
    assert shown.label == "support_reply v2 · echo" and shown.changed_inputs() == ["message"]
    assert rb.robustness_report(workspace, run_id).figures == []
    assert [f for f in rb.robustness_by_variant(workspace) if f.run_id == run_id] == []
