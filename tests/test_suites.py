"""Eval suites: parsing with file and line in every error, scoring runs, judges, calibration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from promptyard import runs
from promptyard.errors import NotFoundError
from promptyard.evals import (
    Assertion,
    Suite,
    SuiteError,
    list_suites,
    load_suite,
    parse_suite,
    score_run,
)
from promptyard.evals.calibration import calibrate, cohen_kappa
from promptyard.evals.default_checks import DEFAULT_SUITE
from promptyard.models import SimulatorHandle
from promptyard.storage import db
from promptyard.storage.tables import Cell, Rating, Score

GOOD = """\
description: test
prompts: [summarize]
models: [sim-fast]
dataset: summaries
slice: head:3
assert:
  - type: icontains
    value: "{{kind}}"
  - type: word-count
    max: 60
    weight: 2
row_threshold: 0.5
threshold: 0.8
"""


def plus(extra: str) -> str:
    """GOOD with more assertions (their first line is line 12)."""
    return GOOD.replace("row_threshold:", extra + "row_threshold:")


def _run(
    ws: Any,
    prompt: str = "summarize",
    dataset: str = "summaries",
    n: int = 4,
    model: str = "sim-fast",
) -> int:
    plan = runs.plan_run(ws, [(prompt, None)], [model], (dataset, None), slice=f"head:{n}")
    run_id = runs.create_run(ws, plan)
    runs.run_sync(ws, run_id)
    return run_id


def _cells(ws: Any, run_id: int) -> list[dict[str, Any]]:
    with db.session(ws) as s:
        return [
            c.model_dump()
            for c in s.exec(select(Cell).where(Cell.run_id == run_id).order_by(Cell.id))
        ]


def _scores(ws: Any, run_id: int) -> list[Score]:
    """The run's scores but the default checks every finished run gets (issue 15)."""
    with db.session(ws) as s:
        return list(
            s.exec(select(Score).where(Score.run_id == run_id, Score.suite != DEFAULT_SUITE))
        )


# --- parsing ------------------------------------------------------------------------------


def test_parse_a_suite() -> None:
    suite = parse_suite(GOOD, "t")
    assert suite.prompts == ["summarize"] and suite.models == ["sim-fast"]
    assert suite.dataset == "summaries" and suite.slice == "head:3"
    assert [a.name for a in suite.assertions] == ["icontains", "word-count"]
    assert suite.assertions[1].weight == 2 and suite.assertions[1].options["max"] == 60
    assert suite.row_threshold == 0.5 and suite.threshold == 0.8
    assert suite.assertions[0].where == "evals/t.yaml line 7"


def test_slice_forms() -> None:
    for given, expected in [
        ("5", "head:5"),
        ("{head: 5}", "head:5"),
        ("{random: 4, seed: 7}", "random:4:7"),
        ("'filter:kind == ticket'", "filter:kind == ticket"),
        ("all", "all"),
    ]:
        text = GOOD.replace("slice: head:3", f"slice: {given}")
        assert parse_suite(text, "t").slice == expected


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (
            (
                '    value: "{{kind}}"',
                '    value: "([unclosed"\n  - type: regex\n    value: "([unclosed"',
            ),
            10,
            "invalid regex",
        ),
        (
            ("  - type: icontains", "  - type: icontains-jsn"),
            7,
            "unknown assertion type 'icontains-jsn'",
        ),
        (
            (
                "  - type: word-count\n    max: 60",
                "  - type: json-schema\n    value: {type: objekt}",
            ),
            10,
            "invalid JSON schema",
        ),
        (("threshold: 0.8", "threshold: 1.8"), 13, "threshold must be 0..1"),
        (("slice: head:3", "slice: head:zero"), 5, "slice"),
        (("models: [sim-fast]", "modles: [sim-fast]"), 3, "unknown key 'modles'"),
        (("    weight: 2", "    weight: 2\n    colour: red"), 12, "unknown assertion key 'colour'"),
        (("prompts: [summarize]", "prompts: [summarize@v1]"), 2, "without @version"),
        (("    max: 60", "  max: 60"), 10, "invalid YAML"),
    ],
)
def test_errors_name_the_suite_file_and_line(
    edit: tuple[str, str], line: int, message: str
) -> None:
    old, new = edit
    assert old in GOOD
    with pytest.raises(SuiteError) as info:
        parse_suite(GOOD.replace(old, new, 1), "broken")
    text = str(info.value)
    assert text.startswith(f"evals/broken.yaml line {line}: "), text
    assert message in text
    assert "\n" not in text


def test_promptfoo_assertions_parse_with_promptfoo_meanings() -> None:
    suite = parse_suite(
        plus(
            "  - type: levenshtein\n    value: hello\n    threshold: 2\n"
            "  - type: not-latency\n    threshold: 500\n"
            "  - type: rouge-n\n    value: a b c\n"
            "  - type: not-bleu\n    value: x y\n    threshold: 0.3\n"
            "  - type: regex\n    value: '(?<year>\\d{4})'\n"
            "  - type: contains-any\n    value: '\"a, b\", c'\n    metric: listed\n"
        ),
        "t",
    )
    kinds = [(a.type, a.threshold) for a in suite.assertions[2:]]
    assert kinds == [
        ("levenshtein", 2.0),  # an edit distance, not a ratio: above 1 is fine
        ("not-latency", 500.0),
        ("rouge-n", None),
        ("not-bleu", 0.3),
        ("regex", None),
        ("contains-any", None),
    ]
    assert suite.assertions[-1].name == "listed"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("  - type: contains-any\n    value: '\"open, x'\n", "unterminated quoted field"),
        ("  - type: word-count\n    value: {min: 9, max: 2}\n", "min (9) must be at most max (2)"),
        ("  - type: not-levenshtein\n    value: x\n", "unknown assertion type 'not-levenshtein'"),
        ("  - type: is-json\n    value: 'type: [unclosed'\n", "invalid JSON schema"),
        ("  - type: not-cost\n", "needs a `threshold:`"),
    ],
)
def test_promptfoo_value_errors_name_the_line(extra: str, message: str) -> None:
    with pytest.raises(SuiteError) as info:
        parse_suite(plus(extra), "broken")
    text = str(info.value)
    assert text.startswith("evals/broken.yaml line 1"), text  # lines 12 and 13
    assert message in text


def test_duplicate_names_get_numbered_and_explicit_duplicates_are_refused() -> None:
    text = GOOD.replace(
        "  - type: word-count", "  - type: icontains\n    value: a\n  - type: word-count"
    )
    assert [a.name for a in parse_suite(text, "t").assertions] == [
        "icontains",
        "icontains #2",
        "word-count",
    ]
    dup = "prompts: [p]\nassert:\n  - {type: contains, value: a, name: x}\n  - {type: contains, value: b, name: x}\n"
    with pytest.raises(SuiteError, match="line 4: two assertions are named 'x'"):
        parse_suite(dup, "d")


def test_load_suite_checks_the_workspace(workspace: Any) -> None:
    assert set(list_suites(workspace)) >= {"support_reply", "summarize", "extract_invoice"}
    for name in list_suites(workspace):
        assert load_suite(workspace, name).assertions
    with pytest.raises(NotFoundError, match="no suite named 'nope'.*support_reply"):
        load_suite(workspace, "nope")
    (workspace.evals_dir / "bad.yaml").write_text(
        GOOD.replace("dataset: summaries", "dataset: nothing")
    )
    with pytest.raises(SuiteError, match=r"evals/bad.yaml line 4: no dataset named 'nothing'"):
        load_suite(workspace, "bad")
    (workspace.evals_dir / "bad.yaml").write_text(
        GOOD.replace("models: [sim-fast]", "models: [sim-nope]")
    )
    with pytest.raises(SuiteError, match=r"evals/bad.yaml line 3: .*sim-nope"):
        load_suite(workspace, "bad")
    text = plus("  - type: python\n    value: missing_check.py\n")
    (workspace.evals_dir / "bad.yaml").write_text(text)
    with pytest.raises(
        SuiteError,
        match=r"evals/bad.yaml line 13: no custom evaluator file evaluators/missing_check.py",
    ):
        load_suite(workspace, "bad")
    (workspace.evals_dir / "bad.yaml").write_text(
        plus("  - type: python\n    value: ../../etc/passwd\n")
    )
    with pytest.raises(SuiteError, match="must be a file in evaluators/"):
        load_suite(workspace, "bad")


# --- scoring ------------------------------------------------------------------------------


def test_score_an_existing_run_stores_scores_and_leaves_cells_alone(
    workspace: Any, sim: SimulatorHandle
) -> None:
    run_id = _run(workspace, n=4)
    before = _cells(workspace, run_id)
    (workspace.evals_dir / "t.yaml").write_text(GOOD)
    result = score_run(workspace, run_id, "t")
    assert _cells(workspace, run_id) == before
    [variant] = result.variants
    assert variant.cells == 4
    stored = _scores(workspace, run_id)
    # two assertions + one row verdict per cell
    assert len(stored) == 4 * 3
    row_rows = [s for s in stored if s.evaluator == "suite"]
    assert sum(bool(s.passed) for s in row_rows) == variant.passed
    assert {s.suite for s in stored} == {"t"}
    # kind ticket/article appears in the output or not: the stored reason says which
    icontains = [s for s in stored if s.name == "icontains"]
    assert all(("found" in (s.reason or "")) == s.passed for s in icontains)
    # scoring again replaces the scores instead of piling them up
    score_run(workspace, run_id, "t")
    assert len(_scores(workspace, run_id)) == 4 * 3


def test_row_threshold_weights_and_suite_threshold(workspace: Any, sim: SimulatorHandle) -> None:
    run_id = _run(workspace, n=3)
    always = Assertion("word-count", options={"max": 10_000}, weight=3, name="short")
    never = Assertion("contains", "§§never§§", weight=1, name="never")
    info = Assertion("contains", "§§never§§", weight=0, name="info")
    suite = Suite(
        "w",
        "evals/w.yaml",
        prompts=["summarize"],
        assertions=[always, never, info],
        row_threshold=0.75,
    )
    result = score_run(workspace, run_id, suite)
    assert [c.score for c in result.cells] == [pytest.approx(0.75)] * 3  # weight-0 ignored
    assert all(c.passed for c in result.cells) and result.passed
    strict = Suite("w", "evals/w.yaml", prompts=["summarize"], assertions=[always, never])
    result = score_run(workspace, run_id, strict)  # no row_threshold: every assertion must pass
    assert not any(c.passed for c in result.cells) and not result.passed
    assert result.variants[0].assertion_pass_rates == {"short": 1.0, "never": 0.0}


def test_adhoc_assertions_and_unknown_run(workspace: Any, sim: SimulatorHandle) -> None:
    run_id = _run(workspace, n=2)
    result = score_run(workspace, run_id, [Assertion("is-json"), Assertion("not-is-json")])
    assert result.suite == "adhoc"
    assert result.variants[0].assertion_pass_rates == {"is-json": 0.0, "not-is-json": 1.0}
    with pytest.raises(NotFoundError):
        score_run(workspace, 9999, [Assertion("is-json")])


def test_extract_invoice_example_suite_scores_typed_fields(
    workspace: Any, sim: SimulatorHandle
) -> None:
    run_id = _run(workspace, "extract_invoice", "invoices", n=3, model="sim-json")
    result = score_run(workspace, run_id, "extract_invoice")
    rates = result.variants[0].assertion_pass_rates
    assert rates["valid JSON"] == 1.0
    # the simulator invents values, so field checks fail: and say what they expected
    wrong = [c.grades["total right"] for c in result.cells]
    assert all(not g.passed for g in wrong)


def test_custom_python_evaluator_runs_only_when_named(
    workspace: Any, sim: SimulatorHandle, tmp_path: Path
) -> None:
    marker = tmp_path / "imported.txt"
    (workspace.evaluators_dir / "mark.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n"
        "def get_assert(output, context):\n"
        "    return {'pass': context['vars']['kind'] in ('ticket', 'article'), 'score': 0.5, 'reason': 'kind ok'}\n"
    )
    run_id = _run(workspace, n=2)
    (workspace.evals_dir / "t.yaml").write_text(GOOD)
    score_run(workspace, run_id, "t")
    assert not marker.exists()  # not named by the suite: never imported
    (workspace.evals_dir / "t.yaml").write_text(plus("  - type: python\n    value: mark.py\n"))
    suite = load_suite(workspace, "t")
    assert suite.uses_custom_code() == ["mark.py"]
    result = score_run(workspace, run_id, suite)
    assert marker.read_text() == "ran"
    grades = [c.grades["python"] for c in result.cells]
    assert all(g.passed and g.value == 0.5 and g.reason == "kind ok" for g in grades)
    assert {s.evaluator for s in _scores(workspace, run_id) if s.name == "python"} == {
        "custom:mark"
    }


def test_custom_evaluator_that_raises_is_an_error_score(
    workspace: Any, sim: SimulatorHandle
) -> None:
    (workspace.evaluators_dir / "boom.py").write_text(
        "def evaluate(output, context):\n    raise RuntimeError('kaput')\n"
    )
    run_id = _run(workspace, n=2)
    (workspace.evals_dir / "t.yaml").write_text(plus("  - type: python\n    value: boom.py\n"))
    result = score_run(workspace, run_id, "t")
    g = result.cells[0].grades["python"]
    assert g.error and not g.passed and "kaput" in g.reason and "evals/t.yaml line 12" in g.reason


# --- LLM judge ----------------------------------------------------------------------------

JUDGED = """\
prompts: [support_reply]
models: [sim-smart]
dataset: tickets
assert:
  - type: llm-rubric
    prompt: {prompt}
    value: Greets {{{{customer_name}}}} by name.
    threshold: 0.5
"""


def test_llm_rubric_judge_scores_and_records_its_cost(workspace: Any, sim: SimulatorHandle) -> None:
    run_id = _run(workspace, "support_reply", "tickets", n=3, model="sim-smart")
    calls_before = sim.calls
    (workspace.evals_dir / "j.yaml").write_text(JUDGED.format(prompt="judge_rubric"))
    result = score_run(workspace, run_id, "j")
    assert sim.calls - calls_before == 3  # one judge call per cell
    judged = [c.grades["llm-rubric"] for c in result.cells]
    assert all(g.value is not None and 0 <= g.value <= 1 and not g.error for g in judged)
    assert all(g.judge_cost_usd and g.judge_cost_usd > 0 for g in judged)
    stored = [s for s in _scores(workspace, run_id) if s.evaluator == "llm-rubric"]
    assert len(stored) == 3 and all(s.judge_cost_usd and s.judge_cost_usd > 0 for s in stored)
    assert result.judge_cost_usd == pytest.approx(sum(s.judge_cost_usd or 0 for s in stored))
    # the rubric reached the judge with the row's value filled in
    last = sim.requests[-1]
    text = json.dumps(last["messages"])
    assert "Greets" in text and "by name" in text and "{{" not in text


def test_judge_answering_unparseable_text_is_a_clear_error_and_cells_stay(
    workspace: Any, sim: SimulatorHandle
) -> None:
    # A judge prompt that never asks for JSON: the simulator answers prose.
    (workspace.prompts_dir / "judge_vibes.prompty").write_text(
        "---\nname: judge_vibes\nmodel:\n  name: sim-fast\n---\nsystem:\nTell me how you feel about this reply.\n\n"
        "user:\n{{ output }}\n"
    )
    run_id = _run(workspace, "support_reply", "tickets", n=2, model="sim-smart")
    before = _cells(workspace, run_id)
    (workspace.evals_dir / "j.yaml").write_text(JUDGED.format(prompt="judge_vibes"))
    result = score_run(workspace, run_id, "j")
    assert _cells(workspace, run_id) == before
    for cell in result.cells:
        g = cell.grades["llm-rubric"]
        assert g.error and not g.passed and g.value is None
        assert g.reason.startswith("evals/j.yaml line 5: the judge answered text with no score")
    assert result.evaluator_errors and not result.passed
    stored = [s for s in _scores(workspace, run_id) if s.evaluator == "llm-rubric"]
    assert all(
        s.passed is False and s.value is None and "no score" in (s.reason or "") for s in stored
    )


def test_unknown_judge_prompt_is_an_error_grade(workspace: Any, sim: SimulatorHandle) -> None:
    run_id = _run(workspace, "support_reply", "tickets", n=1, model="sim-smart")
    (workspace.evals_dir / "j.yaml").write_text(JUDGED.format(prompt="judge_missing"))
    g = score_run(workspace, run_id, "j").cells[0].grades["llm-rubric"]
    assert g.error and "judge not run" in g.reason and "judge_missing" in g.reason


# --- calibration --------------------------------------------------------------------------


def test_cohen_kappa() -> None:
    assert cohen_kappa([True, False, True, False], [True, False, True, False]) == pytest.approx(1.0)
    assert cohen_kappa([True, True, False, False], [True, False, True, False]) == pytest.approx(0.0)
    assert cohen_kappa([], []) is None


def test_calibration_compares_judge_with_people(workspace: Any, sim: SimulatorHandle) -> None:
    run_id = _run(workspace, "support_reply", "tickets", n=5, model="sim-smart")
    (workspace.evals_dir / "j.yaml").write_text(JUDGED.format(prompt="judge_rubric"))
    result = score_run(workspace, run_id, "j")
    judge = {c.cell_id: c.grades["llm-rubric"].value for c in result.cells}
    ids = sorted(judge)
    # People agree with the judge on every cell but the last, which they hate.
    human = {cid: float(judge[cid] or 0) for cid in ids}
    human[ids[-1]] = 0.0

    def add(s: Any) -> None:
        for cid, value in human.items():
            s.add(
                Rating(
                    cell_id=cid,
                    run_id=run_id,
                    scheme="quality",
                    rater="ann",
                    value_json=json.dumps(value),
                    score=value,
                )
            )
        # a superseded rating is ignored
        s.add(
            Rating(
                cell_id=ids[0],
                run_id=run_id,
                scheme="quality",
                rater="bob",
                value_json="1",
                score=1.0,
                superseded_by=999,
            )
        )

    db.write(workspace, add)
    cal = calibrate(workspace, run_id=run_id)
    assert cal.n == 5
    assert cal.disagreements[0].cell_id == ids[-1]
    assert cal.disagreements[0].human == 0.0
    assert cal.pearson is not None and cal.pearson < 1.0
    assert cal.agreement == pytest.approx(0.8 if (judge[ids[-1]] or 0) >= 0.5 else 1.0)
    assert calibrate(workspace, run_id=run_id, scheme="other").n == 0


def test_score_after_run_uses_the_suites_that_fit(workspace: Any, sim: SimulatorHandle) -> None:
    from promptyard.evals import score_after_run, suites_for_run

    run_id = _run(workspace, "extract_invoice", "invoices", n=2, model="sim-json")
    assert [s.name for s in suites_for_run(workspace, run_id)] == ["extract_invoice"]
    [scores] = score_after_run(workspace, run_id)
    assert scores.suite == "extract_invoice" and scores.variants[0].cells == 2
    # summarize's example suite names a custom evaluator: skipped unless allowed
    run_id = _run(workspace, "summarize", "summaries", n=2)
    assert score_after_run(workspace, run_id) == []
    assert [s.suite for s in score_after_run(workspace, run_id, include_custom=True)] == [
        "summarize"
    ]


def test_suites_in_the_docs_parse() -> None:
    import re

    root = Path(__file__).resolve().parent.parent
    found = 0
    for doc in ("docs/evaluators.md", "docs/ci.md"):
        for block in re.findall(r"```yaml\n(.*?)```", (root / doc).read_text(), re.DOTALL):
            if block.lstrip().startswith(("prompts:", "description:", "# evals/")):
                suite = parse_suite(block, "doc")
                assert suite.assertions
                found += 1
    assert found >= 2


def test_judge_retries_a_server_error_and_reports_a_lasting_failure(
    workspace: Any, sim: SimulatorHandle
) -> None:
    run_id = _run(workspace, "support_reply", "tickets", n=1, model="sim-smart")
    (workspace.evals_dir / "j.yaml").write_text(JUDGED.format(prompt="judge_rubric"))
    sim.faults.fail_first = 1
    sim.reset_counts()
    g = score_run(workspace, run_id, "j").cells[0].grades["llm-rubric"]
    assert not g.error and g.value is not None and sim.calls == 2
    sim.faults.clear()
    sim.faults.auth = True
    g = score_run(workspace, run_id, "j").cells[0].grades["llm-rubric"]
    assert g.error and not g.passed
    assert g.reason.startswith("evals/j.yaml line 5: judge call failed (auth)")


def test_stored_results_summarize_what_scoring_wrote(workspace: Any, sim: SimulatorHandle) -> None:
    from promptyard.evals import stored_results

    run_id = _run(workspace, n=3)
    # Issue 15: a finished run has the default checks' results, and only those.
    assert [r.suite for r in stored_results(workspace, run_id)] == [DEFAULT_SUITE]
    (workspace.evals_dir / "t.yaml").write_text(GOOD)
    scored = score_run(workspace, run_id, "t")
    score_run(workspace, run_id, [Assertion("is-json")])
    both = stored_results(workspace, run_id)
    assert sorted(r.suite for r in both) == ["adhoc", DEFAULT_SUITE, "t"]
    [mine] = stored_results(workspace, run_id, "t")
    v = scored.variants[0]
    assert (mine.cells, mine.passed, mine.label) == (3, v.passed, v.label)
    assert mine.assertions == v.assertion_pass_rates
    assert mine.mean_score == pytest.approx(v.mean_score)
