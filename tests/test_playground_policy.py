"""A Playground call reads guardrails.yaml once: the policy checked before anything is sent
is the one every column's call goes through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from promptyard import runs
from promptyard.guardrails import config
from promptyard.models import SimulatorHandle
from promptyard.prompts import save_prompt
from tests.test_guardrails_runs import ECHO_PROMPT

MESSAGE = "Write to dana.k@example.com about the lamp."


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The settings files read through in_force from now on, in order."""
    reads: list[str] = []
    real = config.in_force

    def counted(ws: Any, path: str, *args: Any) -> Any:
        reads.append(path)
        return real(ws, path, *args)

    monkeypatch.setattr(config, "in_force", counted)
    return reads


def test_a_playground_call_reads_guardrails_yaml_once(
    workspace: Any, sim: SimulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_prompt("echo_msg", ECHO_PROMPT, "Add an echo prompt", workspace=workspace)
    reads = _count_reads(monkeypatch)
    columns = [runs.PlaygroundColumn("echo_msg", "echo"), runs.PlaygroundColumn("echo_msg", "echo")]
    session = runs.start_playground(workspace, columns, {"message": MESSAGE}, guardrails="pii")
    snap = runs.wait_playground(session)
    assert snap.finished and all(
        c.guardrail and "masked 1 email" in c.guardrail for c in snap.columns
    )
    assert reads == ["guardrails.yaml"]


def test_an_unknown_policy_is_refused_before_anything_is_sent(
    workspace: Any, sim: SimulatorHandle
) -> None:
    save_prompt("echo_msg", ECHO_PROMPT, "Add an echo prompt", workspace=workspace)
    columns = [runs.PlaygroundColumn("echo_msg", "echo"), runs.PlaygroundColumn("echo_msg", "echo")]
    before = len(sim.requests)
    with pytest.raises(Exception, match="no-such-policy"):
        runs.start_playground(workspace, columns, {"message": MESSAGE}, guardrails="no-such-policy")
    assert len(sim.requests) == before


def test_the_page_reads_guardrails_yaml_once_for_a_run_all(
    workspace: Any, sim: SimulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = str(Path(__file__).resolve().parent.parent / "app" / "views" / "playground.py")
    at = AppTest.from_file(page, default_timeout=60)
    at.run()
    at.selectbox(key="playground.prompt").set_value("summarize").run()
    at.selectbox(key="playground.guardrails").set_value("pii").run()
    reads = _count_reads(monkeypatch)
    at.button(key="playground.run").click().run()  # the picker drawn, the call sent
    assert not at.exception, at.exception
    snap = runs.wait_playground(at.session_state["playground.session"], 60)
    assert snap.finished and all(c.guardrail for c in snap.columns)
    assert reads == ["guardrails.yaml"]
