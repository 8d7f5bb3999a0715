"""The Traces page in AppTest: empty state, list, filters, detail, sessions, add to dataset."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import state
from components.trace_list import table_key
from streamlit.testing.v1 import AppTest

from promptyard import datasets
from promptyard.traces import SpanFilters
from promptyard.traces.filtering import to_ns
from promptyard.workspace import Workspace
from tests.traces_seed import add, feedback, llm_span, root_span, trace_id

PAGE = str(Path(__file__).resolve().parent.parent / "app" / "views" / "traces.py")


def _text(at: AppTest) -> str:
    parts = [str(el.value) for el in (*at.caption, *at.markdown, *at.success, *at.error)]
    parts += [str(el.value) for el in (*at.info, *at.warning, *at.text, *at.subheader)]
    parts += [f"{m.label}={m.value}" for m in at.metric]
    return "\n".join(parts)


def _open(**session: object) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _seed(ws: Workspace) -> None:
    root = root_span(3)
    add(
        ws,
        llm_span(1, user_id="alice", session_id="chat-1", output="first answer"),
        llm_span(2, user_id="bob", cost_usd=None, prompt_version=2),
        root,
        llm_span(
            3,
            1,
            parent_span_id=root.span_id,
            session_id="chat-1",
            user_id="alice",
            output="<script>alert(1)</script> **bold**",
        ),  # fmt: skip
    )
    add(ws, feedback(3, 1.0, comment="helpful"))


def test_empty_state_says_how_to_send_traces(workspace: Workspace) -> None:
    at = _open()
    shown = _text(at)
    assert "promptyard collect" in shown and "4318" in shown and "docs/traces.md" in shown


def test_list_newest_first_with_unknown_cost(workspace: Workspace) -> None:
    _seed(workspace)
    at = _open()
    table = at.dataframe[0].value
    assert list(table["trace id"]) == [trace_id(3), trace_id(2), trace_id(1)]
    assert list(table["cost"])[1] == "unknown"
    assert list(table["prompt"])[1] == "summarize v2"
    assert list(table["feedback"])[0] == "1.00 (1)"
    assert "Showing 1–3 of 3 spans" in _text(at)


def test_filters_narrow_the_list(workspace: Workspace) -> None:
    _seed(workspace)
    at = _open()
    at.text_input(key=state.TRACES_USER).input("bob").run()
    assert list(at.dataframe[0].value["trace id"]) == [trace_id(2)]
    at.text_input(key=state.TRACES_USER).input("").run()
    at.text_input(key=state.TRACES_SEARCH).input("first answer").run()
    assert list(at.dataframe[0].value["trace id"]) == [trace_id(1)]
    at.text_input(key=state.TRACES_SEARCH).input("").run()
    at.radio(key=state.TRACES_SCOPE).set_value("roots").run()
    assert "POST /ask" in list(at.dataframe[0].value["name"])


def test_paging_older_and_newer(workspace: Workspace) -> None:
    add(workspace, *[llm_span(n) for n in range(1, 31)])
    at = _open(**{state.TRACES_PAGE_SIZE: 25})
    assert len(at.dataframe[0].value) == 25
    at.button(key="traces.older").click().run()
    assert list(at.dataframe[0].value["trace id"]) == [trace_id(n) for n in range(5, 0, -1)]
    assert "Showing 26–30 of 30 spans" in _text(at)
    at.button(key="traces.newer").click().run()
    assert len(at.dataframe[0].value) == 25


def test_trace_detail_shows_tree_messages_as_text_feedback_and_prompt_link(
    workspace: Workspace,
) -> None:
    _seed(workspace)
    at = _open(**{state.TRACES_OPEN: trace_id(3)})
    shown = _text(at)
    assert f"Trace {trace_id(3)[:12]}…" in shown
    assert "Cost=$0.000100" in shown and "Spans=2" in shown
    assert len(at.get("plotly_chart")) == 1
    texts = [t.value for t in at.text]
    assert "<script>alert(1)</script> **bold**" in texts  # shown as text, not HTML
    assert "ticket 3: the desk arrived broken" in texts
    assert "helpful" in list(at.dataframe[-2].value["comment"]) or any(
        "helpful" in list(df.value.get("comment", [])) for df in at.dataframe
    )
    link = [b for b in at.button if b.key == f"traces.prompt_link::{llm_span(3, 1).span_id}"]
    assert link and "summarize v1" in link[0].label


def test_sessions_view_shows_turns_with_cost_and_latency(workspace: Workspace) -> None:
    _seed(workspace)
    at = _open(**{state.TRACES_VIEW: "sessions"})
    at.selectbox(key=state.TRACES_SESSION_PICK).set_value("chat-1").run()
    assert not at.exception, at.exception
    turns = at.dataframe[0].value
    assert list(turns["turn"]) == [1, 2]
    assert list(turns["latency ms"]) == [120.0, 300.0]  # turn 2's trace has a 300 ms root
    assert list(turns["cost"]) == ["$0.000100", "$0.000100"]
    assert "Turns=2" in _text(at)
    assert list(turns["feedback"]) == ["", "1.00 (1)"]
    at.button(key=f"traces.turn::{trace_id(3)}").click().run()
    assert f"Trace {trace_id(3)[:12]}…" in _text(at)


def test_add_selected_traces_to_a_new_dataset(workspace: Workspace) -> None:
    _seed(workspace)
    at = _open()
    # AppTest cannot click grid rows: set the selection the dataframe would report.
    key = table_key(SpanFilters(), None, 50)
    at.session_state[key] = {"selection": {"rows": [0, 1, 2], "columns": []}}
    at.run()
    assert not at.exception, at.exception
    at.text_input(key=state.TRACES_DS_NEW).input("from_prod").run()
    at.checkbox(key=state.TRACES_DS_REFERENCE).check().run()
    at.button(key="traces.ds_add").click().run()
    assert not at.exception, at.exception
    assert "Added 3 traces to from_prod v1 (new dataset)." in _text(at)
    ds = datasets.load_dataset(workspace, "from_prod")
    assert len(ds) == 3 and ds.reference == "reference"


def test_dashboard_counts_end_user_feedback_per_prompt_version(workspace: Workspace) -> None:
    add(workspace, llm_span(1), llm_span(2, prompt_version=2), llm_span(3, prompt_version=2))
    add(workspace, feedback(1, 1.0), feedback(2, 1.0), feedback(3, 0.0))
    dashboard = str(Path(PAGE).parent / "dashboard.py")
    at = AppTest.from_file(dashboard, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert "End-user feedback (production)" in [s.value for s in at.subheader]
    table = at.dataframe[-1].value
    assert list(table["version"]) == ["v1", "v2"]
    assert list(table["count"]) == [1, 2] and list(table["mean"]) == [1.0, 0.5]


def test_prompt_version_link_opens_the_prompts_page_on_that_prompt(workspace: Workspace) -> None:
    add(workspace, llm_span(1, prompt_name="support_reply", prompt_version=1))
    main = str(Path(PAGE).parent.parent / "main.py")
    at = AppTest.from_file(main, default_timeout=60).run()
    at.session_state[state.TRACES_OPEN] = trace_id(1)
    at = at.switch_page("views/traces.py").run()
    assert not at.exception, at.exception
    at.button(key=f"traces.prompt_link::{llm_span(1).span_id}").click().run()
    assert not at.exception, at.exception
    assert at.session_state[state.PROMPT_SELECTED] == "support_reply"
    assert at.title[0].value == "📝 Prompts"
    assert "support_reply" in at.subheader[0].value


def test_a_trace_link_opens_it(workspace: Workspace) -> None:
    _seed(workspace)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["trace"] = trace_id(2)
    at.run()
    assert not at.exception, at.exception
    assert f"Trace {trace_id(2)[:12]}…" in _text(at)
    assert "Cost=unknown" in _text(at)


def test_a_selection_survives_a_rerun_under_a_relative_time_range(workspace: Workspace) -> None:
    now = datetime.now(UTC)
    add(workspace, *[llm_span(n, start_ns=to_ns(now) - n * 1_000_000_000) for n in (1, 2)])
    at = _open(**{state.TRACES_RANGE: "1h"})
    assert len(at.dataframe[0].value) == 2
    key = table_key(SpanFilters(), None, 50, ("1h",))
    at.session_state[key] = {"selection": {"rows": [1], "columns": []}}
    at.run()
    at.run()  # a later run (a new `since`) keeps the selection and its open trace
    assert not at.exception, at.exception
    assert f"Trace {trace_id(2)[:12]}…" in _text(at)
    labels = [b.proto.popover.label for b in at.get("popover")]
    assert labels == ["➕ Add 1 to a dataset"]  # the selection is still there


def test_trace_detail_shows_online_evaluation_verdicts(workspace: Workspace) -> None:
    from sqlalchemy import text

    from promptyard.storage import db

    _seed(workspace)
    with db.get_engine(workspace).begin() as conn:
        (row_id,) = conn.execute(
            text("SELECT id FROM span WHERE trace_id = :t AND is_llm"), {"t": trace_id(3)}
        ).one()
        for evaluator, passed, reason in (
            ("keeps_numbers", True, "all numbers kept"),
            ("faithful", None, "judge not run: the daily judge budget of $1.00 is reached"),
        ):
            conn.execute(
                text(
                    "INSERT INTO span_score (span_row_id, trace_id, span_id, suite, evaluator,"
                    " passed, reason, created_at) VALUES (:r, :t, 's', 'live', :e, :p, :why,"
                    " '2026-03-01 10:00:00')"
                ),
                {"r": row_id, "t": trace_id(3), "e": evaluator, "p": passed, "why": reason},
            )
    at = _open(**{state.TRACES_OPEN: trace_id(3)})
    assert "**Online evaluation**" in _text(at)
    [table] = [df.value for df in at.dataframe if "verdict" in df.value.columns]
    assert dict(zip(table["evaluator"], table["verdict"], strict=True)) == {
        "keeps_numbers": "pass",
        "faithful": "unscored",
    }
    assert any("daily judge budget" in r for r in table["reason"])
