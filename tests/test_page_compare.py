"""The Compare page, driven as a person uses it (AppTest)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from promptyard import ratings
from tests.ratings_seed import seed_run

PAGE = str(Path(__file__).resolve().parent.parent / "app" / "views" / "compare.py")
EVIL = '<script>window.__pwned=1</script><img src=x onerror="alert(1)"> ![x](http://evil.example/p.png)'


def _app() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _grid_line(at: AppTest) -> str:
    """The caption over the grid: rows x columns, the page, the ratings."""
    return next(c.value for c in at.caption if " rows × " in c.value or " row × " in c.value)


def _texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def test_page_without_runs_says_how_to_start(workspace) -> None:
    at = _app()
    assert "No runs yet" in at.info[0].value


def test_grid_shows_rows_columns_metrics_and_pages(workspace) -> None:
    seeded = seed_run(workspace, rows=25, errors=[(2, 1)])
    at = _app()
    # Issue 15: 20 rows a page by default (10 showed too little)
    assert _grid_line(at).startswith("25 rows × 2 columns · page 1 of 2")
    texts = _texts(at)
    assert "The customer reports problem number 0 with the order and asks for a refund." in texts
    assert "Ticket 9: my order #9 arrived broken, please help." in texts
    assert "Ticket 19: my order #19 arrived broken, please help." in texts
    assert "Ticket 20: my order #20 arrived broken, please help." not in texts
    assert any(c.value == "20→12 tok · $0.00004 · 110 ms" for c in at.caption)
    assert "429 Too Many Requests" in texts  # the failed cell shows its error
    at.button(key="compare.next").click().run()
    assert "page 2 of 2" in _grid_line(at)
    assert "Ticket 20: my order #20 arrived broken, please help." in _texts(at)
    assert seeded.run_id


def test_filters_errors_only_and_search(workspace) -> None:
    seed_run(workspace, rows=25, errors=[(2, 1), (17, 0)])
    at = _app()
    at.checkbox(key="compare.errors_only").check().run()
    assert _grid_line(at).startswith("2 rows")
    at.checkbox(key="compare.errors_only").uncheck().run()
    at.text_input(key="compare.search").input("order #13 ").run()
    assert _grid_line(at).startswith("1 rows")
    assert "Ticket 13: my order #13 arrived broken, please help." in _texts(at)
    at.text_input(key="compare.search").input("no such words").run()
    assert "No row matches these filters." in [i.value for i in at.info]


def test_inline_rating_is_stored_with_the_raters_name(workspace) -> None:
    seeded = seed_run(workspace, rows=3)
    at = _app()
    at.text_input(key="rater_name").input("ann").run()
    at.selectbox(key="compare.scheme").select("quality").run()
    cell = seeded.cell_id(1, 1)
    at.segmented_control(key=f"compare.rate::quality::{cell}::ann").set_value(4).run()
    assert not at.exception
    stored = ratings.current_ratings(workspace, seeded.run_id, "quality")
    assert [(r.cell_id, r.rater, ratings.rating_value(r)) for r in stored] == [(cell, "ann", 4)]
    assert "ratings quality: 1" in _grid_line(at)
    at.selectbox(key="compare.scheme").select("thumbs").run()
    at.segmented_control(key=f"compare.rate::thumbs::{cell}::ann").set_value("👎").run()
    thumbs = ratings.current_ratings(workspace, seeded.run_id, "thumbs")
    assert [ratings.rating_value(r) for r in thumbs] == [False]


def test_trace_of_a_cell(workspace) -> None:
    seeded = seed_run(workspace, rows=2, errors=[(0, 1)])
    at = _app()
    at.button(key=f"compare.trace_btn::{seeded.cell_id(0, 1)}").click().run()
    assert "Trace" in [h.value for h in at.subheader]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Status"] == "error" and metrics["Attempts"] == "3"
    assert "Summarize the ticket." in _texts(at)  # the rendered system message
    at.button(key="compare.trace_close").click().run()
    assert not at.subheader


def test_baseline_diff_and_model_html_stays_text(workspace) -> None:
    def output(row: int, variant: int, repeat: int) -> str:
        return "Refund the order." if variant == 0 else f"Refund the parcel. {EVIL}"

    seeded = seed_run(workspace, rows=1, output=output)
    at = _app()
    assert f"Refund the parcel. {EVIL}" in _texts(at)  # plain st.text, not markdown
    at.selectbox(key="compare.baseline").select(seeded.variant_ids[0]).run()
    diff = [m.value for m in at.markdown if "green-background" in m.value]
    assert len(diff) == 1
    assert "<script>" not in diff[0] and "\\<script\\>" in diff[0]
    assert "\\!\\[x\\]\\(http" in diff[0]  # the image syntax is escaped, never loaded
    assert ":red-background[~~order~~]" in diff[0]


@pytest.mark.parametrize("size", [10, 20])
def test_page_size(workspace, size: int) -> None:
    seed_run(workspace, rows=30)
    at = _app()
    at.selectbox(key="compare.page_size").select(size).run()
    assert f"page 1 of {-(-30 // size)}" in _grid_line(at)


def test_escaped_markdown_keeps_every_character_and_makes_no_link() -> None:
    from components.output_cell import WORD_JOINER, diff_markdown, escape_markdown

    from promptyard.reading import word_diff

    text = "<b>x</b> ![i](https://e.example/p.png) [l](javascript:alert(1)) mail a@b.co www.x.io"
    escaped = escape_markdown(text)
    unescaped = re.sub(r"\\(.)", r"\1", escaped).replace(WORD_JOINER, "")
    assert unescaped == text  # a reader sees exactly the characters
    assert re.search(r"(?<!\\)[<>\[\]()!]", escaped) is None  # no live markup left
    assert "://" not in escaped and "www." not in escaped and "a@" not in escaped
    assert escape_markdown("one\ntwo") == "one  \ntwo"
    segments = word_diff("keep old", "keep <new>")
    assert segments is not None
    md = diff_markdown(segments)
    assert ":red-background[~~old~~]" in md and ":green-background[\\<new\\>]" in md


def test_score_a_run_with_a_suite_from_the_page(workspace, sim) -> None:  # type: ignore[no-untyped-def]
    """Pick a suite, score the run in the background, and see the pass rates."""
    import time

    import state

    from promptyard import runs
    from promptyard.evals import scoring_job, stored_results

    plan = runs.plan_run(
        workspace, [("summarize", None)], ["sim-fast"], ("summaries", None), slice="head:4"
    )
    run_id = runs.create_run(workspace, plan)
    runs.run_sync(workspace, run_id)
    # summarize's suite runs code: not automatic; the default checks are (issue 15)
    assert [r.suite for r in stored_results(workspace, run_id)] == ["default"]

    at = _app()
    suite_box = at.selectbox(key=state.for_run(state.COMPARE_SUITE, run_id))
    assert suite_box.value == "summarize"
    assert any("evaluators/" in w.value for w in at.warning)  # it says code will run
    at.button(key=state.for_run(state.COMPARE_SCORE, run_id)).click().run()
    deadline = time.monotonic() + 60
    while (job := scoring_job(workspace, run_id, "summarize")) is None or job.running:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert job.error is None
    at.run()
    results = stored_results(workspace, run_id)
    assert [(r.suite, r.cells) for r in results] == [("default", 4), ("summarize", 4)]
    assert not at.exception
    assert "Judge calibration" in [m.value.strip("*") for m in at.markdown]


def test_judge_calibration_appears_once_people_and_the_judge_scored(workspace, sim) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import select

    from promptyard import runs
    from promptyard.evals import score_run
    from promptyard.storage import db
    from promptyard.storage.tables import Cell

    plan = runs.plan_run(
        workspace, [("support_reply", None)], ["sim-smart"], ("tickets", None), slice="head:3"
    )
    run_id = runs.create_run(workspace, plan)
    runs.run_sync(workspace, run_id)
    with db.session(workspace) as s:
        cells = s.exec(select(Cell).where(Cell.run_id == run_id)).all()
    for cell, value in zip(cells, (5, 1, 3), strict=True):
        ratings.rate_cell(workspace, cell.id, "quality", value, "dana")
    score_run(workspace, run_id, "support_reply")  # its llm-rubric asks the simulated judge

    at = _app()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Cells both scored"] == "3"
    assert not at.exception
