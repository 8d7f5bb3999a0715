"""The trace queries over spans stored through the tables: filters, paging, tree, sessions,
feedback per version, and traces into a dataset that a run can plan over."""

from __future__ import annotations

from datetime import timedelta

import pytest

from promptyard import datasets, traces
from promptyard.errors import NotFoundError, PromptyardError
from promptyard.runs import plan_run
from promptyard.traces import SpanFilters, SpanScope, TraceQueryError
from promptyard.traces.filtering import from_ns
from promptyard.workspace import Workspace
from tests.traces_seed import MS, T0, add, feedback, llm_span, root_span, span_id, trace_id


def _all_pages(ws: Workspace, filters: SpanFilters, limit: int) -> list[list[int]]:
    pages, cursor = [], None
    while True:
        page = traces.list_spans(ws, filters, cursor, limit)
        pages.append([r.id for r in page.spans])
        cursor = page.next_cursor
        if cursor is None:
            return pages


def test_pages_walk_every_span_newest_first_without_repeats(workspace: Workspace) -> None:
    # Two spans share a start time: the id breaks the tie, so none is lost across pages.
    add(workspace, *[llm_span(n) for n in range(1, 12)], llm_span(20, start_ns=T0 + 5_000 * MS))
    pages = _all_pages(workspace, SpanFilters(), limit=4)
    assert [len(p) for p in pages] == [4, 4, 4]
    flat = [i for p in pages for i in p]
    assert len(set(flat)) == 12
    first = traces.list_spans(workspace, SpanFilters(), limit=12).spans
    assert [r.id for r in first] == flat
    starts = [r.start_ns for r in first]
    assert starts == sorted(starts, reverse=True)
    assert first[0].trace_id == trace_id(11)


def test_filters_each_narrow_the_list(workspace: Workspace) -> None:
    add(
        workspace,
        llm_span(1),
        llm_span(2, prompt_version=2, prompt_label="staging", user_id="bob"),
        llm_span(3, request_model="gpt-4o", response_model="gpt-4o-2024-08-06"),
        llm_span(4, status="error", status_message="rate limited", output=None),
        llm_span(
            5,
            session_id="s-1",
            output="Your REFUND_ID is 100% ready",
            parent_span_id=root_span(5).span_id,
        ),
        root_span(5),
    )

    def traces_of(**kw: object) -> list[str]:
        return [r.trace_id for r in traces.list_spans(workspace, SpanFilters(**kw)).spans]

    assert traces_of(prompt_name="summarize", prompt_version=2) == [trace_id(2)]
    assert traces_of(prompt_label="staging") == [trace_id(2)]
    assert traces_of(user_id="bob") == [trace_id(2)]
    assert traces_of(model="gpt-4o") == [trace_id(3)]
    assert traces_of(model="gpt-4o-2024-08-06") == [trace_id(3)]
    assert traces_of(errors_only=True) == [trace_id(4)]
    assert traces_of(session_id="s-1") == [trace_id(5)]
    # LIKE wildcards in the search are literal characters, and case does not matter.
    assert traces_of(text="refund_id is 100%") == [trace_id(5)]
    assert traces_of(text="100%x") == []
    assert traces_of(text="ticket 3:") == [trace_id(3)]  # found in the input messages
    since, until = from_ns(T0 + 2_000 * MS), from_ns(T0 + 3_500 * MS)
    assert traces_of(since=since, until=until) == [trace_id(3), trace_id(2)]
    # Root spans instead of LLM calls: trace 5's root is its server span, not its LLM call.
    roots = traces.list_spans(workspace, SpanFilters(scope=SpanScope.ROOTS)).spans
    assert [(r.trace_id, r.is_llm) for r in roots][0] == (trace_id(5), False)
    assert [r.trace_id for r in roots] == [trace_id(n) for n in (5, 4, 3, 2, 1)]
    assert len(traces.list_spans(workspace, SpanFilters(scope=SpanScope.ALL)).spans) == 6


def test_score_filter_uses_end_user_feedback(workspace: Workspace) -> None:
    add(workspace, *[llm_span(n) for n in range(1, 5)])
    add(workspace, feedback(1, 1.0), feedback(2, 0.0), feedback(3, 4.0, name="quality"))
    low = traces.list_spans(workspace, SpanFilters(score_name="thumbs", score_max=0.5)).spans
    assert [r.trace_id for r in low] == [trace_id(2)]
    any_scored = traces.list_spans(workspace, SpanFilters(score_min=0.5)).spans
    assert [r.trace_id for r in any_scored] == [trace_id(3), trace_id(1)]
    assert any_scored[1].feedback == traces.FeedbackSummary(1, 1.0)


def test_bad_filters_say_what_is_wrong(workspace: Workspace) -> None:
    with pytest.raises(TraceQueryError, match="ends before it starts"):
        traces.list_spans(
            workspace, SpanFilters(since=from_ns(T0), until=from_ns(T0) - timedelta(seconds=1))
        )
    with pytest.raises(TraceQueryError, match="needs the prompt name"):
        traces.list_spans(workspace, SpanFilters(prompt_version=2))
    with pytest.raises(TraceQueryError, match="score range is empty"):
        traces.list_spans(workspace, SpanFilters(score_min=3, score_max=1))
    with pytest.raises(TraceQueryError, match="cursor 'abc'"):
        traces.list_spans(workspace, cursor="abc")
    with pytest.raises(TraceQueryError, match="not 32 hexadecimal"):
        traces.trace_detail(workspace, "xyz")
    with pytest.raises(NotFoundError, match="no trace"):
        traces.trace_detail(workspace, trace_id(99))


def test_free_text_search_stops_after_a_bounded_window(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promptyard.traces import queries

    monkeypatch.setattr(queries, "TEXT_SCAN_WINDOW", 3)
    add(workspace, *[llm_span(n, output="needle" if n == 1 else "hay") for n in range(1, 8)])
    page = traces.list_spans(workspace, SpanFilters(text="needle"))
    assert page.spans == [] and page.window_exhausted and page.next_cursor
    found = []
    cursor = page.next_cursor
    while cursor:
        page = traces.list_spans(workspace, SpanFilters(text="needle"), cursor)
        found += [r.trace_id for r in page.spans]
        cursor = page.next_cursor
    assert found == [trace_id(1)]


def test_count_is_capped(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    from promptyard.traces import queries

    add(workspace, *[llm_span(n) for n in range(1, 6)])
    assert traces.count_spans(workspace) == (5, False)
    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    assert traces.count_spans(workspace) == (3, True)


def test_trace_detail_is_the_tree_with_timing_and_feedback(workspace: Workspace) -> None:
    root = root_span(7)
    retrieve = llm_span(
        7, 1, is_llm=False, name="retrieve", parent_span_id=root.span_id, request_model=None
    )
    first = llm_span(7, 2, parent_span_id=root.span_id, cost_usd=None, ttft_ms=42.0)
    nested = llm_span(7, 3, parent_span_id=retrieve.span_id, input_tokens=7)
    add(workspace, nested, first, root, retrieve)
    add(workspace, feedback(7, 1.0, comment="great"), feedback(7, 0.0, span_id=first.span_id))
    detail = traces.trace_detail(workspace, trace_id(7).upper())
    assert [(s.name, s.depth) for s in detail.spans] == [
        ("POST /ask", 0),
        ("retrieve", 1),
        ("chat gpt-4o-mini", 2),
        ("chat gpt-4o-mini", 1),
    ]
    assert detail.spans[0].offset_ms == 0
    assert detail.spans[1].offset_ms == pytest.approx(15.0)  # 10 ms per span k, root 5 ms early
    assert detail.duration_ms == pytest.approx(300.0)
    assert detail.cost_usd is None  # one LLM call has no known price: the total is unknown
    assert detail.input_tokens == 27 and detail.output_tokens == 10
    llm = detail.llm_spans[1]
    assert llm.span_id == span_id(7, 2) and llm.ttft_ms == 42.0
    assert llm.input_messages[1] == {"role": "user", "content": "ticket 7: the desk arrived broken"}
    assert llm.parameters == {"temperature": 0.2, "max_tokens": 64}
    assert (llm.prompt_name, llm.prompt_version, llm.prompt_link) == ("summarize", 1, "linked")
    assert [f.value for f in llm.feedback] == [0.0]
    assert [(f.value, f.comment) for f in detail.feedback] == [(1.0, "great"), (0.0, None)]
    assert detail.to_dict()["spans"][0]["name"] == "POST /ask"


def test_a_span_whose_parent_never_arrived_is_a_root(workspace: Workspace) -> None:
    add(workspace, llm_span(8, 1, parent_span_id="f" * 16), llm_span(8, 2))
    detail = traces.trace_detail(workspace, trace_id(8))
    assert [s.depth for s in detail.spans] == [0, 0]


def test_session_turns_in_order_with_cost_and_latency(workspace: Workspace) -> None:
    add(
        workspace,
        llm_span(3, session_id="chat-9", user_id="carol", output="third"),
        llm_span(1, session_id="chat-9", user_id="carol", output="first", cost_usd=0.002),
        llm_span(2, session_id="chat-9", user_id="carol", cost_usd=None, duration_ms=900.0),
        llm_span(4, session_id="other"),
        root_span(1),  # carries no session, belongs to turn 1 through its trace
    )
    add(workspace, feedback(2, 0.0))
    view = traces.session_turns(workspace, "chat-9")
    assert [t.trace_id for t in view.turns] == [trace_id(1), trace_id(2), trace_id(3)]
    assert [t.number for t in view.turns] == [1, 2, 3]
    one, two, three = view.turns
    assert one.latency_ms == pytest.approx(300.0)  # root span's wall time
    assert one.cost_usd == pytest.approx(0.002) and two.cost_usd is None
    assert two.latency_ms == pytest.approx(900.0)
    assert one.user_message == "ticket 1: the desk arrived broken" and one.answer == "first"
    assert two.feedback == traces.FeedbackSummary(1, 0.0)
    assert view.user_ids == ["carol"] and view.cost_usd is None
    recent = traces.recent_sessions(workspace)
    assert [s.session_id for s in recent] == ["other", "chat-9"]
    with pytest.raises(NotFoundError, match="session 'nope'"):
        traces.session_turns(workspace, "nope")


def test_feedback_by_version_counts_per_prompt_version(workspace: Workspace) -> None:
    add(workspace, llm_span(1), llm_span(2, prompt_version=2), llm_span(3, prompt_version=2))
    add(workspace, feedback(1, 1.0), feedback(2, 1.0), feedback(3, 0.0), feedback(3, None))
    rows = traces.feedback_by_version(workspace)
    assert [(r.prompt_version, r.scheme, r.count, r.mean) for r in rows] == [
        (1, "thumbs", 1, 1.0),
        (2, "thumbs", 3, 0.5),
    ]


def test_three_traces_become_a_dataset_a_run_can_use(workspace: Workspace) -> None:
    add(workspace, *[llm_span(n) for n in range(1, 5)], root_span(4))
    picked = [r.id for r in traces.list_spans(workspace, SpanFilters(), limit=3).spans]
    added = traces.traces_to_dataset(
        workspace, "prod_cases", span_ids=picked, reference_from_output=True
    )
    assert (added.added, added.created, added.reference) == (3, True, "reference")
    assert added.summary() == "Added 3 traces to prod_cases v1 (new dataset)"
    ds = datasets.load_dataset(workspace, "prod_cases")
    assert ds.reference == "reference"
    assert {r["text"] for r in ds.rows} == {
        f"ticket {n}: the desk arrived broken" for n in (2, 3, 4)
    }
    assert {r["reference"] for r in ds.rows} == {"answer 2", "answer 3", "answer 4"}
    assert {r["trace_id"] for r in ds.rows} == {trace_id(n) for n in (2, 3, 4)}
    plan = plan_run(workspace, [("summarize", None)], ["sim-fast"], ("prod_cases", None))
    assert len(plan.cells) == 3

    # Again with a filter: an existing dataset gets a new version, columns merged; the
    # root span of trace 4 resolves to its LLM span, already there.
    again = traces.traces_to_dataset(
        workspace, "prod_cases", filters=SpanFilters(scope=SpanScope.ALL)
    )
    assert (again.added, again.created, again.already_present) == (1, False, 4)
    assert again.version.ref == "v2"
    assert len(datasets.load_dataset(workspace, "prod_cases")) == 4


def test_to_dataset_merges_into_an_example_dataset(workspace: Workspace) -> None:
    add(workspace, llm_span(1, variables={"text": "new case", "kind": "ticket"}))
    before = datasets.load_dataset(workspace, "summaries")
    added = traces.traces_to_dataset(
        workspace, "summaries", filters=SpanFilters(), reference_from_output=True
    )
    after = datasets.load_dataset(workspace, "summaries")
    assert len(after) == len(before) + 1 and added.reference == "expected"
    assert after.rows[-1]["expected"] == "answer 1"  # the dataset's own reference column
    assert after.rows[:-1] == before.rows
    assert "trace_id" in after.columns


def test_to_dataset_refuses_and_changes_nothing(workspace: Workspace) -> None:
    add(workspace, llm_span(1, variables=None), llm_span(2))
    with pytest.raises(PromptyardError, match="1 carry no prompt variables"):
        traces.traces_to_dataset(workspace, "x", span_ids=[1])
    with pytest.raises(PromptyardError, match="already exists"):
        traces.traces_to_dataset(workspace, "summaries", span_ids=[2], must_be_new=True)
    with pytest.raises(NotFoundError, match="no span with id 99"):
        traces.traces_to_dataset(workspace, "x", span_ids=[99])
    with pytest.raises(TraceQueryError, match="no span matches"):
        traces.traces_to_dataset(workspace, "x", filters=SpanFilters(user_id="nobody"))
    assert "x" not in {d.name for d in datasets.list_datasets(workspace)}
