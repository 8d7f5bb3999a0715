"""Evaluator plugins: a package adds assertion types through the `promptyard.evaluators`
entry-point group, and a suite uses them like the built-in ones."""

from __future__ import annotations

import importlib
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from promptyard import evals
from promptyard.cli import app
from promptyard.models import SimulatorHandle
from promptyard.storage import db
from promptyard.storage.tables import Cell, Score
from tests.plugin_dist import install_distribution

PLUGIN_CODE = '''
from promptyard.evals import AssertionConfigError, Evaluator, Grade


def word_budget(output, ctx, assertion):
    """the output has at most `value:` words (from the wordy plugin)"""
    n = len(output.split())
    passed = n <= int(assertion.value)
    return Grade(1.0 if passed else 0.0, passed, f"{n} words, budget {assertion.value} (wordy)")


def _needs_needle(assertion):
    if not assertion.value:
        raise AssertionConfigError(f"{assertion.where}: mentions wants a word to look for")


def _mentions(output, ctx, assertion):
    hit = str(assertion.value).lower() in output.lower()
    return Grade(1.0 if hit else 0.0, hit, "mentioned" if hit else "not mentioned")


mentions = Evaluator(
    "ignored-name", _mentions, "the output mentions the value", needs_value=False,
    check=_needs_needle,
)
'''

ENTRY_POINTS = """\
[promptyard.evaluators]
word-budget = wordy_checks:word_budget
mentions = wordy_checks:mentions
half-built = wordy_checks:not_there
"""

SUITE = """\
prompts: [summarize]
models: [sim-fast]
dataset: summaries
slice: head:3
assert:
  - type: word-budget
    name: brief
    value: 400
  - type: not-mentions
    value: "as an AI"
threshold: 0.0
"""


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A tiny distribution, `wordy-checks 0.3`, installed on sys.path for this test only."""
    site = tmp_path / "site"
    dist = install_distribution(
        site,
        module="wordy_checks",
        code=PLUGIN_CODE,
        name="wordy-checks",
        version="0.3",
        entry_points=ENTRY_POINTS,
    )
    monkeypatch.syspath_prepend(str(site))
    evals.reset_plugins()
    yield dist
    evals.reset_plugins()
    sys.modules.pop("wordy_checks", None)


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_a_suite_scores_with_a_plugin_and_the_grades_are_stored(
    workspace: Any, sim: SimulatorHandle, plugin: Path
) -> None:
    (workspace.evals_dir / "wordy.yaml").write_text(SUITE)
    result = _cli("eval", "wordy", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    [comparison] = out["comparisons"]
    assert comparison["current"]["cells"] == 3
    assert comparison["current"]["assertions"] == {"brief": 1.0, "not-mentions": 1.0}

    with db.session(workspace) as s:
        rows = s.exec(
            select(Score, Cell)
            .where(Score.run_id == out["run_id"], Score.cell_id == Cell.id)
            .where(Score.evaluator == "word-budget")
        ).all()
        negated = s.exec(
            select(Score).where(Score.run_id == out["run_id"], Score.evaluator == "not-mentions")
        ).all()
    assert len(rows) == 3 and len(negated) == 3
    for score, cell in rows:  # the plugin saw each cell's own output
        words = len((cell.output or "").split())
        assert score.reason == f"{words} words, budget 400 (wordy)"
        assert score.passed and score.value == 1.0 and score.suite == "wordy"
    assert all(s.reason == "not: not mentioned" and s.passed for s in negated)


def test_plugins_are_listed_with_their_distribution(workspace: Any, plugin: Path) -> None:
    found = {e["type"]: e for e in evals.describe()}
    assert found["word-budget"]["source"] == "wordy-checks 0.3"
    assert found["word-budget"]["description"].startswith("the output has at most")
    assert found["mentions"]["description"] == "the output mentions the value"
    assert found["contains"]["source"] == "built-in"
    assert "half-built" not in found
    result = _cli("evaluators")
    assert result.exit_code == 0
    assert "[plugin: wordy-checks 0.3]" in result.stdout


@pytest.mark.parametrize(
    ("assertion", "message"),
    [
        ("type: word-budgit\n    value: 5", "unknown assertion type 'word-budgit'"),
        ("type: mentions", "mentions wants a word to look for"),
        (
            "type: half-built",
            "assertion type 'half-built' comes from a plugin that did not load: wordy-checks 0.3",
        ),
    ],
)
def test_bad_plugin_assertions_name_the_file_and_line(
    workspace: Any, plugin: Path, assertion: str, message: str
) -> None:
    (workspace.evals_dir / "broken.yaml").write_text(
        f"prompts: [summarize]\nmodels: [sim-fast]\ndataset: summaries\nassert:\n  - {assertion}\n"
    )
    result = _cli("eval", "broken")
    assert result.exit_code == 2
    assert f"error: evals/broken.yaml line 5: {message}" in result.stderr, result.stderr
    if "unknown" in message:  # the list of known types names the plugin's
        assert "word-budget" in result.stderr and "mentions" in result.stderr


def test_discovery_is_lazy_cached_and_resettable(workspace: Any, plugin: Path) -> None:
    assert "word-budget" in evals.known_types()
    shutil.rmtree(plugin)  # uninstalled: the cache still answers until it is reset
    importlib.invalidate_caches()
    assert "word-budget" in evals.known_types()
    evals.reset_plugins()
    assert "word-budget" not in evals.known_types()
    with pytest.raises(evals.AssertionConfigError, match="unknown assertion type 'word-budget'"):
        evals.check_assertion(evals.Assertion("word-budget", 3, where="evals/x.yaml line 2"))
