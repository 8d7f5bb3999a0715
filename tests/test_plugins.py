"""One plugin package adds both a provider and an assertion type; `promptyard eval` runs a
suite whose model goes through the plugin's provider and whose assertion is the plugin's."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from promptyard import evals, models
from promptyard.cli import app
from promptyard.storage import db
from promptyard.storage.tables import Cell, Score
from promptyard.workspace import Workspace
from tests.plugin_dist import install_distribution

CODE = '''
from promptyard.evals import Grade
from promptyard.models import Completion


class ShoutProvider:
    """Answers with the last message in capitals."""

    def __init__(self, endpoint):
        self.endpoint = endpoint

    async def complete(self, call, on_delta=None):
        text = "SHOUT: " + call.messages[-1]["content"][:40].upper()
        return Completion(text=text, finish_reason="stop", prompt_tokens=3,
                          completion_tokens=len(text.split()), cost_usd=None, latency_ms=2.0)


def shouted(output, ctx, assertion):
    """the output is in capitals (from the shout plugin)"""
    loud = output.startswith("SHOUT:") and output == output.upper()
    return Grade(1.0 if loud else 0.0, loud, "loud" if loud else "quiet")
'''

ENTRY_POINTS = """\
[promptyard.providers]
shout = shout_kit:ShoutProvider

[promptyard.evaluators]
is-shouted = shout_kit:shouted
"""

SUITE = """\
prompts: [summarize]
models: [shout/v1]
dataset: summaries
slice: head:2
assert:
  - type: is-shouted
threshold: 1.0
"""


@pytest.fixture
def shout_kit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    install_distribution(
        tmp_path / "site",
        module="shout_kit",
        code=CODE,
        name="shout-kit",
        version="1.0",
        entry_points=ENTRY_POINTS,
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    models.reset_providers()
    evals.reset_plugins()
    yield
    models.reset_providers()
    evals.reset_plugins()
    sys.modules.pop("shout_kit", None)


def test_one_package_adds_a_provider_and_an_evaluator(workspace: Workspace, shout_kit: Any) -> None:
    (workspace.evals_dir / "loud.yaml").write_text(SUITE)
    result = CliRunner().invoke(app, ["eval", "loud", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    with db.session(workspace) as s:
        cells = s.exec(select(Cell).where(Cell.run_id == out["run_id"])).all()
        scores = s.exec(
            select(Score).where(Score.run_id == out["run_id"], Score.evaluator == "is-shouted")
        ).all()
    # The cells hold the plugin provider's answers, the scores the plugin evaluator's grades.
    assert len(cells) == 2 and all((c.output or "").startswith("SHOUT: ") for c in cells)
    assert all(c.cost_usd is None for c in cells)  # the plugin knows no price: unknown, not 0
    assert [(s.passed, s.reason) for s in scores] == [(True, "loud"), (True, "loud")]


def test_without_the_package_the_suite_names_what_is_missing(workspace: Workspace) -> None:
    (workspace.evals_dir / "loud.yaml").write_text(SUITE)
    result = CliRunner().invoke(app, ["eval", "loud", "--json"], catch_exceptions=False)
    assert result.exit_code == 2
    assert "loud.yaml" in result.stderr and "is-shouted" in result.stderr
