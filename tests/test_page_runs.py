"""The Runs page in AppTest: plan and estimate, start, follow, resume an interrupted run."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import state
from streamlit.testing.v1 import AppTest

from promptyard import runs
from promptyard.models import SimulatorHandle
from promptyard.storage import db
from promptyard.storage.tables import Run, RunStatus

PAGE = str(Path(__file__).resolve().parent.parent / "app" / "views" / "runs.py")


def _page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def _texts(at: AppTest) -> str:
    parts = (
        [m.value for m in at.markdown] + [e.value for e in at.error] + [t.value for t in at.text]
    )
    parts += (
        [s.value for s in at.subheader] + [c.value for c in at.caption] + [i.value for i in at.info]
    )
    return "\n".join(str(p) for p in parts)


def test_page_shows_estimate_and_starts_a_run(workspace: Any, sim: SimulatorHandle) -> None:
    at = _page()
    at.multiselect(key="runs.prompts").set_value(["summarize@v2", "summarize@v1"]).run()
    at.multiselect(key="runs.models").set_value(["sim-fast"]).run()
    at.selectbox(key=state.dataset_pick_key("runs", "name")).set_value("summaries").run()
    at.radio(key=state.dataset_pick_key("runs", "slice_kind")).set_value("head").run()
    at.number_input(key=state.dataset_pick_key("runs", "slice_n")).set_value(4).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Calls"] == "8"
    assert metrics["Cost (estimate)"].startswith("$")

    at.button(key="runs.start").click().run()
    assert not at.exception, at.exception
    found = runs.list_runs(workspace)
    assert len(found) == 1 and found[0].cells == 8
    deadline = time.monotonic() + 120
    while runs.run_summary(workspace, found[0].run_id).status != RunStatus.COMPLETED:
        assert time.monotonic() < deadline, "the worker did not finish"
        time.sleep(0.2)
    at.run()
    assert "Run 1 · completed" in _texts(at)
    bar = at.get("progress")[0].proto
    assert (bar.value, bar.text) == (100, "8 / 8 cells")
    table = at.dataframe[0].value
    assert list(table["status"]) == ["completed"] and list(table["ok"]) == [8]
    assert sim.calls == 8


def test_missing_variables_block_the_start(workspace: Any, sim: SimulatorHandle) -> None:
    # Issue 15: a variable the prompt gives an example for is no longer refused (the plan
    # uses the example, and says so); one with no column, default or example still is.
    from promptyard import prompts

    prompts.save_prompt(
        "translate",
        "---\nname: translate\nmodel:\n  id: sim-fast\n---\nuser:\n"
        "Translate into {{ language }}: {{ text }}\n",
        "Add translate",
        workspace=workspace,
    )
    at = _page()
    at.multiselect(key="runs.prompts").set_value(["translate@v1"]).run()
    at.selectbox(key=state.dataset_pick_key("runs", "name")).set_value("summaries").run()
    text = _texts(at)
    assert "cannot run" in text and "'language'" in text
    assert not [b for b in at.button if b.key == "runs.start"]
    at.multiselect(key="runs.prompts").set_value(["support_reply@v2"]).run()
    text = _texts(at)
    assert "cannot run" not in text and "customer_name = 'Dana' (sample)" in text
    assert sim.calls == 0


def test_interrupted_run_can_be_resumed(workspace: Any, sim: SimulatorHandle) -> None:
    plan = runs.plan_run(
        workspace, [("summarize", None)], ["sim-fast"], ("summaries", None), slice="head:3"
    )
    run_id = runs.create_run(workspace, plan)

    def crashed(s: Any) -> None:
        run = s.get(Run, run_id)
        run.status = RunStatus.RUNNING
        run.worker_pid = 2**22 + 4321
        s.add(run)

    db.write(workspace, crashed)
    at = _page()
    assert f"Run {run_id} · interrupted" in _texts(at)
    at.button(key=f"runs.resume.{run_id}").click().run()
    deadline = time.monotonic() + 120
    while runs.run_summary(workspace, run_id).status != RunStatus.COMPLETED:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert runs.run_summary(workspace, run_id).ok == 3
