"""The New run form: variables from another column, a constant or the prompt's example; the
prompt last opened is preselected; chips show the version and fit side by side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import state
from streamlit.testing.v1 import AppTest

from promptyard import runs
from promptyard.storage import db
from promptyard.storage.tables import Run
from promptyard.workspace import Workspace

PAGE = str(Path(__file__).resolve().parent.parent / "app" / "views" / "runs.py")


def _page(**session: Any) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _source(at: AppTest, variable: str):  # type: ignore[no-untyped-def]
    return at.selectbox(key=state.runs_variable_key("summaries", variable))


def test_support_reply_on_summaries_with_a_column_a_constant_and_an_example(
    workspace: Workspace, sim: Any
) -> None:
    at = _page()
    at.multiselect(key="runs.prompts").set_value(["support_reply@v1"]).run()
    at.multiselect(key="runs.models").set_value(["sim-fast"]).run()
    at.selectbox(key=state.dataset_pick_key("runs", "name")).set_value("summaries").run()
    at.radio(key=state.dataset_pick_key("runs", "slice_kind")).set_value("head").run()
    at.number_input(key=state.dataset_pick_key("runs", "slice_n")).set_value(3).run()
    # The prompt's examples are offered first where no column has the name: the plan runs.
    assert _source(at, "customer_name").value.startswith("the prompt's example: Dana")
    assert {m.label: m.value for m in at.metric}["Calls"] == "3"
    _source(at, "message").set_value("column text").run()
    _source(at, "product").set_value("a constant…").run()
    at.text_input(key=state.runs_constant_key("product")).set_value("Nimbus Desk").run()
    assert not at.error, [e.value for e in at.error]
    shown = " ".join(c.value for c in at.caption)
    assert "message ← column text" in shown
    assert "product = 'Nimbus Desk' (constant)" in shown
    assert "customer_name = 'Dana' (sample)" in shown
    at.button(key="runs.start").click().run()
    assert not at.exception
    run_id = runs.list_runs(workspace)[0].run_id
    with db.session(workspace) as s:
        stored: Any = s.get(Run, run_id)
    saved = json.loads(stored.mapping_json)
    assert saved == {
        "columns": {"message": "text"},
        "constants": {"product": "Nimbus Desk"},
        "samples": True,
    }


def test_a_variable_nobody_fills_is_refused_and_says_so(workspace: Workspace) -> None:
    at = _page()
    at.multiselect(key="runs.prompts").set_value(["support_reply@v1"]).run()
    at.multiselect(key="runs.models").set_value(["sim-fast"]).run()
    at.selectbox(key=state.dataset_pick_key("runs", "name")).set_value("summaries").run()
    _source(at, "customer_name").set_value("a constant…").run()  # left empty: ''
    _source(at, "product").set_value("column kind").run()
    _source(at, "message").set_value("column expected").run()
    assert not at.error  # an empty constant is a value
    shown = " ".join(c.value for c in at.caption)
    assert "customer_name = '' (constant)" in shown


def test_the_prompt_last_opened_is_preselected(workspace: Workspace) -> None:
    at = _page(**{state.PROMPT_SELECTED: "support_reply"})
    assert at.multiselect(key="runs.prompts").value == ["support_reply@v2"]
    assert at.selectbox(key=state.dataset_pick_key("runs", "name")).value == "tickets"
    fresh = _page()
    assert fresh.multiselect(key="runs.prompts").value != ["support_reply@v2"]


def test_chips_are_short_and_show_the_version(workspace: Workspace) -> None:
    at = _page()
    picker = at.multiselect(key="runs.prompts")
    picker.set_value(["summarize@v2", "summarize@v1"]).run()
    chips = [picker.format_func(v) for v in at.multiselect(key="runs.prompts").value]
    assert chips == ["summarize v2", "summarize v1"]
    shown = " ".join(c.value for c in at.caption)
    assert "summarize v2 (latest)" in shown  # the message is beside, not in the chip
