"""The Playground: columns stream side by side; an edit runs unsaved and can be saved."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from promptyard import prompts, runs
from promptyard.models import SimulatorHandle
from promptyard.runs import PlanError, PlaygroundColumn, start_playground, wait_playground

PAGE = str(Path(__file__).resolve().parent.parent / "app" / "views" / "playground.py")


def test_columns_stream_and_are_kept_without_taking_a_run_id(
    workspace: Any, sim: SimulatorHandle
) -> None:
    edit = prompts.get_prompt("summarize", workspace=workspace).source_text.replace(
        "at most three sentences", "one sentence"
    )
    columns = [
        PlaygroundColumn("summarize", "sim-fast", ref="v1"),
        PlaygroundColumn("summarize", "sim-smart", ref="v2"),
        PlaygroundColumn("summarize", "sim-fast", text=edit),
    ]
    session = start_playground(workspace, columns, {"text": "The desk arrived with a cracked leg."})
    snap = wait_playground(session, 60)
    assert snap.finished and sim.calls == 3
    assert [c.label for c in snap.columns] == [
        "summarize v1 · sim-fast",
        "summarize v2 · sim-smart",
        "summarize draft · sim-fast",
    ]
    for col in snap.columns:
        assert col.done and col.text and col.error_kind is None
        assert col.completion_tokens and col.cost_usd and col.latency_ms and col.ttft_ms is not None
    # Streamed via the simulator's SSE: every request asked for a stream.
    assert all(r.get("stream") for r in sim.requests)
    # Issue 15: a playground call used to be a run (the first real run was "Run 2", and
    # it showed in Compare and Rate). It is kept in its own table instead.
    assert runs.list_runs(workspace, kind=None) == []
    stored = runs.playground_calls(workspace, session)
    assert [r["output"] for r in stored] == [c.text for c in snap.columns]
    assert [r["model"] for r in stored] == ["sim-fast", "sim-smart", "sim-fast"]
    assert stored[2]["template_text"] == edit and stored[0]["saved_run_id"] is None


def test_a_call_saved_as_a_run_is_run_1_with_its_cells(
    workspace: Any, sim: SimulatorHandle
) -> None:
    columns = [
        PlaygroundColumn("summarize", "sim-fast"),
        PlaygroundColumn("summarize", "sim-smart"),
    ]
    session = start_playground(workspace, columns, {"text": "The lamp works."})
    snap = wait_playground(session, 60)
    run_id = runs.save_playground_run(workspace, session)
    assert run_id == 1 and runs.save_playground_run(workspace, session) == 1
    found = runs.list_runs(workspace, kind="playground")
    assert [r.run_id for r in found] == [1] and found[0].ok == 2
    rows = list(runs.iter_results(workspace, run_id))
    assert [r["output"] for r in rows] == [c.text for c in snap.columns]
    assert runs.playground_calls(workspace, session)[0]["saved_run_id"] == 1


def test_missing_input_is_reported_before_sending(workspace: Any, sim: SimulatorHandle) -> None:
    columns = [
        PlaygroundColumn("support_reply", "sim-fast"),
        PlaygroundColumn("support_reply", "sim-smart"),
    ]
    with pytest.raises(PlanError) as info:
        start_playground(workspace, columns, {"customer_name": "Dana"})
    assert "'message'" in str(info.value.problems) and "'product'" in str(info.value.problems)
    assert sim.calls == 0


def test_page_runs_two_columns_side_by_side(workspace: Any, sim: SimulatorHandle) -> None:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    at.selectbox(key="playground.prompt").set_value("summarize").run()
    assert at.text_area(key="playground.input.text").value  # the sample fills the input
    at.selectbox(key="playground.col1.model").set_value("sim-smart").run()
    at.button(key="playground.run").click().run()
    assert not at.exception, at.exception
    deadline = time.monotonic() + 60
    session = at.session_state["playground.session"]
    while not runs.playground_snapshot(session).finished:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    at.run()
    captions = " ".join(c.value for c in at.caption)
    assert captions.count("tokens") == 2 and "$" in captions and " ms" in captions
    labels = " ".join(m.value for m in at.markdown)
    assert "sim\\-fast" in labels and "sim\\-smart" in labels


def test_page_saves_an_edit_as_a_new_version(workspace: Any, sim: SimulatorHandle) -> None:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    at.selectbox(key="playground.prompt").set_value("summarize").run()
    before = len(prompts.prompt_history("summarize", workspace=workspace))
    text = at.text_area(key="playground.col0.text").value
    at.text_area(key="playground.col0.text").set_value(text.replace("three", "two")).run()
    at.text_input(key="playground.col0.save_message").set_value("Two sentences").run()
    at.button(key="playground.col0.save").click().run()
    assert not at.exception, at.exception
    history = prompts.prompt_history("summarize", workspace=workspace)
    assert len(history) == before + 1 and history[-1].message == "Two sentences"
    assert (
        "at most two sentences" in prompts.get_prompt("summarize", workspace=workspace).source_text
    )


def _wait_done(at: AppTest) -> runs.PlaygroundSnapshot:
    session = at.session_state["playground.session"]
    snap = wait_playground(session, 60)
    at.run()
    return snap


def test_switching_prompts_resets_every_column_to_the_newest_version(
    workspace: Any, sim: SimulatorHandle
) -> None:
    # Issue 15: after a switch, a column kept the old prompt's version (v2, not v3).
    text = prompts.get_prompt("summarize", workspace=workspace).source_text
    prompts.save_prompt("summarize", text.replace("three", "four"), "v3", workspace=workspace)
    newest = f"v{len(prompts.prompt_history('summarize', workspace=workspace))}"
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    at.selectbox(key="playground.prompt").set_value("support_reply").run()
    at.selectbox(key="playground.col1.version").set_value("v1").run()
    at.selectbox(key="playground.prompt").set_value("summarize").run()
    assert not at.exception, at.exception
    versions = [at.selectbox(key=f"playground.col{i}.version").value for i in range(2)]
    assert versions == [newest, newest]


def test_column_parameters_reach_the_model(workspace: Any, sim: SimulatorHandle) -> None:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    at.selectbox(key="playground.prompt").set_value("summarize").run()
    at.checkbox(key="playground.col0.set_temperature").check().run()
    at.slider(key="playground.col0.temperature").set_value(0.3).run()
    at.number_input(key="playground.col0.max_tokens").set_value(64).run()
    at.text_input(key="playground.col0.seed").set_value("7").run()
    at.selectbox(key="playground.col1.format").set_value("json_object").run()
    at.button(key="playground.run").click().run()
    assert not at.exception, at.exception
    _wait_done(at)
    by_model = {r["model"]: r for r in sim.requests}
    first, second = by_model["sim-fast"], by_model["sim-smart"]
    assert first["temperature"] == 0.3 and first["max_tokens"] == 64 and first["seed"] == 7
    assert "response_format" not in first
    assert second["response_format"] == {"type": "json_object"}
    assert second.get("temperature") != 0.3 and second.get("seed") is None


def test_a_bad_seed_is_named_and_nothing_is_sent(workspace: Any, sim: SimulatorHandle) -> None:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    at.text_input(key="playground.col1.seed").set_value("lucky").run()
    assert "column 2: seed must be a whole number" in [e.value for e in at.error]
    assert at.button(key="playground.run").disabled
    assert sim.calls == 0


def test_chat_mode_sends_each_turn_with_the_conversation(
    workspace: Any, sim: SimulatorHandle
) -> None:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    at.selectbox(key="playground.prompt").set_value("summarize").run()
    at.button_group(key="playground.mode").set_value("Chat").run()
    at.chat_input(key="playground.chat").set_value("Shorter, please").run()
    assert not at.exception, at.exception
    first = _wait_done(at)
    answers = [c.turns[-1]["content"] for c in first.columns]
    at.chat_input(key="playground.chat").set_value("And in French?").run()
    second = _wait_done(at)
    assert sim.calls == 4
    for out, answer in zip(second.columns, answers, strict=True):
        roles = [t["role"] for t in out.turns]
        assert roles == ["user", "assistant", "user", "assistant"]
        assert out.turns[1]["content"] == answer
    # The second turn sent the prompt's messages, then the whole conversation so far.
    for body in list(sim.requests)[-2:]:
        tail = [(m["role"], m["content"]) for m in body["messages"][-3:]]
        assert tail[0] == ("user", "Shorter, please") and tail[2] == ("user", "And in French?")
        assert tail[1][0] == "assistant" and tail[1][1] in answers
    shown = [m for m in at.chat_message]
    assert len(shown) == 8  # two columns, four turns each
    assert runs.list_runs(workspace, kind=None) == []


def test_inputs_go_into_a_dataset_as_a_committed_row(workspace: Any, sim: SimulatorHandle) -> None:
    from promptyard import datasets

    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    at.selectbox(key="playground.prompt").set_value("summarize").run()
    at.text_area(key="playground.input.text").set_value("A brand new case.").run()
    name = datasets.list_datasets(workspace)[0].name
    before = datasets.load_dataset(workspace, name)
    at.selectbox(key="playground.dataset").set_value(name).run()
    at.button(key="playground.add_row").click().run()
    assert not at.exception, at.exception
    after = datasets.load_dataset(workspace, name)
    assert len(after.rows) == len(before.rows) + 1
    assert after.rows[-1]["text"] == "A brand new case." and after.rows[-1]["id"]
    assert after.version and before.version and after.version.sha != before.version.sha
    assert any(f"Added a row to {name}" in s.value for s in at.success)


def test_save_as_run_makes_run_1_for_compare(workspace: Any, sim: SimulatorHandle) -> None:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    at.button(key="playground.run").click().run()
    _wait_done(at)
    at.button(key="playground.save_run").click().run()
    assert not at.exception, at.exception
    assert [r.run_id for r in runs.list_runs(workspace, kind="playground")] == [1]
    assert any("Saved as Run 1" in s.value for s in at.success)
