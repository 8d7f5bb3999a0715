"""The CI gate: working tree vs baseline, pass / regress / misconfigured, reports."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from sqlmodel import func, select

from promptyard.evals.gate import (
    EXIT_FAIL,
    EXIT_PASS,
    GateConfigError,
    baseline_side,
    current_side,
    junit_xml,
    markdown,
    md_escape,
    run_gate,
    table,
)
from promptyard.models import SimulatorHandle
from promptyard.storage import db
from promptyard.storage.tables import Run
from promptyard.versioning.store import Store

# Still a valid prompt, but it no longer asks for a summary: answers get long.
REWRITE = """\
---
name: summarize
model:
  name: sim-fast
  parameters:
    temperature: 0.2
---
system:
You are a helpful writer. Rewrite the user's text in your own words, with every detail.

user:
{{ text }}
"""


# A suite any OpenAI-compatible server must fail when max_tokens cuts answers to 2 tokens.
GUARD = """\
prompts: [summarize]
models: [sim-fast]
dataset: summaries
slice: head:6
assert:
  - type: word-count
    name: says something
    min: 4
threshold: 1.0
"""


def truncate_in_working_tree(ws: Any) -> None:
    """An uncommitted edit of summarize that caps answers at 2 tokens."""
    path = ws.prompts_dir / "summarize.prompty"
    text = path.read_text()
    assert "maxOutputTokens: 200" in text
    path.write_text(text.replace("maxOutputTokens: 200", "maxOutputTokens: 2"))


def _runs(ws: Any) -> int:
    with db.session(ws) as s:
        return int(s.exec(select(func.count()).select_from(Run)).one())


def test_unchanged_prompts_pass(workspace: Any, sim: SimulatorHandle) -> None:
    result = run_gate(workspace, "summarize", allow_code=True)
    assert result.exit_code == EXIT_PASS and result.passed
    [c] = result.comparisons
    assert c.current_desc.endswith("(working tree)") and c.baseline_desc.endswith("(last commit)")
    assert c.current.cells == 22 and c.current.pass_rate >= 0.9
    assert c.delta == 0 and c.verdict == "PASS"
    # one variant serves both sides when the text is the same: nothing is called twice
    assert sim.calls == 22
    assert "PASSED" in table(result)


def test_uncommitted_edit_that_breaks_an_assertion_regresses(
    workspace: Any, sim: SimulatorHandle
) -> None:
    (workspace.prompts_dir / "summarize.prompty").write_text(REWRITE)
    result = run_gate(workspace, "summarize", allow_code=True)
    assert result.exit_code == EXIT_FAIL
    [c] = result.comparisons
    assert c.current_desc == "working tree (uncommitted)"
    assert c.baseline is not None and c.baseline.pass_rate >= 0.9
    assert c.current.pass_rate < c.baseline.pass_rate
    assert c.regressed and c.failed and c.verdict == "FAIL, REGRESSED"
    assert c.current.assertion_pass_rates["short"] < c.baseline.assertion_pass_rates["short"]
    assert c.newly_failing and all(not cell.grades["short"].passed for cell in c.newly_failing)
    assert any("fell from" in p for p in result.problems)
    # the working-tree variant was run from the edited text, not from git
    from promptyard.storage.tables import Variant

    with db.session(workspace) as s:
        variants = s.exec(select(Variant).where(Variant.run_id == result.run_id)).all()
    edited = [v for v in variants if v.template_text]
    assert len(edited) == 1 and "Rewrite the user's text" in (edited[0].template_text or "")
    assert edited[0].prompt_sha is None

    md = markdown(result)
    assert md.startswith("## ❌ Promptyard eval `summarize`: failed")
    assert "Rows that passed on the baseline and fail now" in md and "REGRESSED" in md
    xml = ET.fromstring(junit_xml(result))
    suite_el = xml.find("testsuite")
    assert suite_el is not None
    failures = int(suite_el.get("failures", "0"))
    assert failures == c.current.cells - c.current.passed + 1  # failing rows + the regression check
    assert int(suite_el.get("tests", "0")) == c.current.cells + 1


def test_working_tree_edit_that_truncates_answers_regresses(
    workspace: Any, sim: SimulatorHandle
) -> None:
    (workspace.evals_dir / "guard.yaml").write_text(GUARD)
    assert run_gate(workspace, "guard").exit_code == EXIT_PASS
    truncate_in_working_tree(workspace)
    result = run_gate(workspace, "guard")
    assert result.exit_code == EXIT_FAIL
    [c] = result.comparisons
    assert c.baseline is not None and c.baseline.pass_rate == 1.0
    assert c.current.pass_rate == 0.0 and c.delta == -1.0
    assert [cell.row_id for cell in c.newly_failing] == [f"s-00{i}" for i in range(1, 7)]


def test_a_regression_within_tolerance_passes(workspace: Any, sim: SimulatorHandle) -> None:
    suite = (workspace.evals_dir / "summarize.yaml").read_text()
    suite = suite.replace("threshold: 0.9", "threshold: 0.0").replace(
        "tolerance: 0.0", "tolerance: 1.0"
    )
    (workspace.evals_dir / "summarize.yaml").write_text(suite)
    (workspace.prompts_dir / "summarize.prompty").write_text(REWRITE)
    result = run_gate(workspace, "summarize", allow_code=True)
    assert result.comparisons[0].delta is not None and result.comparisons[0].delta < 0
    assert result.exit_code == EXIT_PASS


def test_baseline_choice(workspace: Any, sim: SimulatorHandle) -> None:
    store = Store(workspace)
    path = "prompts/summarize.prompty"
    v1, v2 = store.history(path)[:2]
    assert baseline_side(workspace, "summarize", None).description.endswith("(last commit)")  # type: ignore[union-attr]
    store.set_label(path, "v1", "production")
    side = baseline_side(workspace, "summarize", None)
    assert side is not None and side.sha == v1.sha and side.description.endswith("(production)")
    assert baseline_side(workspace, "summarize", "v2").sha == v2.sha  # type: ignore[union-attr]
    assert baseline_side(workspace, "summarize", v1.sha[:7]).sha == v1.sha  # type: ignore[union-attr]
    branch = baseline_side(workspace, "summarize", "main")  # a git branch, as CI passes origin/main
    assert branch is not None and branch.sha == v2.sha and "(main)" in branch.description
    with pytest.raises(GateConfigError, match="no-such-label"):
        baseline_side(workspace, "summarize", "no-such-label")
    assert current_side(workspace, "summarize").sha == v2.sha
    result = run_gate(
        workspace, "summarize", allow_code=True
    )  # v2 in the tree against production = v1
    [c] = result.comparisons
    assert c.baseline_desc.startswith("v1 ") and c.current_desc.startswith("v2 ")
    assert c.baseline is not None and c.baseline.variant_id != c.current.variant_id


def test_new_prompt_without_history_has_no_baseline(workspace: Any, sim: SimulatorHandle) -> None:
    text = (
        (workspace.prompts_dir / "summarize.prompty")
        .read_text()
        .replace("name: summarize", "name: brief")
    )
    (workspace.prompts_dir / "brief.prompty").write_text(text)
    suite = (
        (workspace.evals_dir / "summarize.yaml")
        .read_text()
        .replace("prompts: [summarize]", "prompts: [brief]")
    )
    (workspace.evals_dir / "brief.yaml").write_text(suite)
    result = run_gate(workspace, "brief", allow_code=True)
    [c] = result.comparisons
    assert c.baseline is None and c.baseline_desc == "none (new prompt)" and c.delta is None
    assert result.exit_code == EXIT_PASS
    # as in CI: a prompt added on this branch does not exist on the baseline branch
    assert baseline_side(workspace, "brief", "main") is None
    assert baseline_side(workspace, "brief", "production") is None
    assert (
        run_gate(workspace, "brief", allow_code=True, baseline="main").comparisons[0].baseline
        is None
    )


@pytest.mark.parametrize(
    ("suite_text", "message"),
    [
        (
            "prompts: [summarize]\ndataset: summaries\nassert:\n  - type: regex\n    value: '(['\n",
            "evals/broken.yaml line 5: invalid regex",
        ),
        (
            "prompts: [summarize]\ndataset: summaries\nassert:\n  - type: json-schema\n    value: {type: 12}\n",
            "evals/broken.yaml line 5: invalid JSON schema",
        ),
        (
            "prompts: [summarize]\ndataset: summaries\nassert:\n  - type: smells-good\n",
            "evals/broken.yaml line 4: unknown assertion type 'smells-good'",
        ),
        (
            "prompts: [summarize]\nassert:\n  - type: contains\n    value: x\n",
            "evals/broken.yaml: the suite names no `dataset:`",
        ),
        (
            "prompts: [nothing]\ndataset: summaries\nassert:\n  - type: is-json\n",
            "evals/broken.yaml line 1: no prompt named 'nothing'",
        ),
    ],
)
def test_misconfigured_suites_are_config_errors_and_run_nothing(
    workspace: Any, sim: SimulatorHandle, suite_text: str, message: str
) -> None:
    (workspace.evals_dir / "broken.yaml").write_text(suite_text)
    with pytest.raises(GateConfigError) as info:
        run_gate(workspace, "broken")
    assert str(info.value).startswith(message), str(info.value)
    assert _runs(workspace) == 0 and sim.calls == 0


def test_unknown_suite_and_unknown_baseline_are_config_errors(
    workspace: Any, sim: SimulatorHandle
) -> None:
    with pytest.raises(GateConfigError, match="no suite named 'nope'"):
        run_gate(workspace, "nope")
    with pytest.raises(GateConfigError, match="baseline 'v99'"):
        run_gate(workspace, "summarize", allow_code=True, baseline="v99")
    assert _runs(workspace) == 0


def test_broken_template_in_the_working_tree_is_a_config_error(
    workspace: Any, sim: SimulatorHandle
) -> None:
    (workspace.prompts_dir / "summarize.prompty").write_text(
        "---\nname: summarize\n---\nuser:\n{{ text \n"
    )
    with pytest.raises(GateConfigError, match="summarize"):
        run_gate(workspace, "summarize", allow_code=True)


def test_budget_stop_fails_the_gate(workspace: Any, sim: SimulatorHandle) -> None:
    result = run_gate(workspace, "summarize", allow_code=True, max_cost_usd=0.00001)
    assert result.run_status != "completed"
    assert result.exit_code == EXIT_FAIL
    assert any("the run ended" in p for p in result.problems)


def test_markdown_escapes_model_text() -> None:
    assert md_escape("a | b <script>*x*</script>") == r"a \| b \<script\>\*x\*\</script\>"
    assert md_escape("x" * 500, 20).endswith("…") and len(md_escape("x" * 500, 20)) == 20
