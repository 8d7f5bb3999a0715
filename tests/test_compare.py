"""The comparison grid: paging, filters, diffs, repeats, exports and traces."""

from __future__ import annotations

import csv
import io
import json

import pytest

from promptyard import ratings
from promptyard.errors import NotFoundError, PromptyardError
from promptyard.reading import GridFilters, cell_trace, compare, export_grid
from promptyard.storage.tables import Score
from promptyard.versioning.store import Store
from tests.ratings_seed import seed_run


@pytest.fixture
def ws(empty_workspace):  # type: ignore[no-untyped-def]
    ratings.save_schemes(empty_workspace, ratings.DEFAULT_RATINGS_YAML, "Add rating schemes")
    return empty_workspace


def test_first_page_has_rows_in_dataset_order_and_every_column(ws) -> None:
    seeded = seed_run(ws, rows=45)
    grid = compare.grid_page(ws, [seeded.run_id], page=0, page_size=20)
    assert grid.total_rows == 45 and grid.pages == 3
    assert [c.variant_id for c in grid.columns] == seeded.variant_ids
    assert grid.columns[0].label == "summarize v1 · sim-fast"
    assert [r.row_id for r in grid.rows] == seeded.row_ids[:20]
    first = grid.rows[0]
    assert first.inputs["ticket"].startswith("Ticket 0") and first.reference
    cell = first.cells[seeded.variant_ids[1]]
    assert cell.output and cell.prompt_tokens == 20 and cell.completion_tokens == 12
    assert cell.cost_usd == pytest.approx(0.00004) and cell.latency_ms == 110.0
    last = compare.grid_page(ws, [seeded.run_id], page=2, page_size=20)
    assert [r.row_id for r in last.rows] == seeded.row_ids[40:]
    beyond = compare.grid_page(ws, [seeded.run_id], page=9, page_size=20)
    assert beyond.page == 2 and beyond.rows[0].row_id == seeded.row_ids[40]


def test_errors_only_and_rows_where_columns_differ(ws) -> None:
    def output(row: int, variant: int, repeat: int) -> str:
        return "same answer" if row % 2 == 0 else f"answer from variant {variant}"

    seeded = seed_run(ws, rows=10, output=output, errors=[(3, 0), (8, 1)])
    errors = compare.grid_page(ws, [seeded.run_id], filters=GridFilters(errors_only=True))
    assert [r.row_id for r in errors.rows] == ["r00003", "r00008"]
    bad = errors.rows[0].cells[seeded.variant_ids[0]]
    assert bad.is_error and bad.error_kind == "rate_limit" and bad.output is None
    differ = compare.grid_page(ws, [seeded.run_id], filters=GridFilters(differ_only=True))
    # odd rows differ; row 8 differs too: one column failed
    assert [r.row_id for r in differ.rows] == [
        "r00001",
        "r00003",
        "r00005",
        "r00007",
        "r00008",
        "r00009",
    ]
    assert "r00000" not in {r.row_id for r in differ.rows}


def test_rated_unrated_low_rated_and_search(ws) -> None:
    seeded = seed_run(ws, rows=6)
    ratings.rate_cell(ws, seeded.cell_id(1), "quality", 5, "ann")
    ratings.rate_cell(ws, seeded.cell_id(2, 1), "quality", 1, "ann")
    ratings.rate_cell(ws, seeded.cell_id(4), "thumbs", False, "bob")
    rated = compare.grid_page(ws, [seeded.run_id], filters=GridFilters(rated="rated"))
    assert [r.row_id for r in rated.rows] == ["r00001", "r00002", "r00004"]
    only_quality = compare.grid_page(
        ws, [seeded.run_id], filters=GridFilters(rated="rated", scheme="quality")
    )
    assert [r.row_id for r in only_quality.rows] == ["r00001", "r00002"]
    unrated = compare.grid_page(ws, [seeded.run_id], filters=GridFilters(rated="unrated"))
    assert [r.row_id for r in unrated.rows] == ["r00000", "r00003", "r00005"]
    low = compare.grid_page(ws, [seeded.run_id], filters=GridFilters(low_rated=True))
    assert [r.row_id for r in low.rows] == ["r00002", "r00004"]
    found = compare.grid_page(ws, [seeded.run_id], filters=GridFilters(search="ORDER #3 "))
    assert [r.row_id for r in found.rows] == ["r00003"]
    literal = compare.grid_page(ws, [seeded.run_id], filters=GridFilters(search="100%_"))
    assert literal.rows == [] and literal.total_rows == 0
    with pytest.raises(PromptyardError, match="unknown rated filter"):
        compare.grid_page(ws, [seeded.run_id], filters=GridFilters(rated="maybe"))


def test_cells_carry_ratings_scores_and_the_raters_own_value(ws) -> None:
    from promptyard.storage import db

    seeded = seed_run(ws, rows=1)
    cell = seeded.cell_id(0)
    ratings.rate_cell(ws, cell, "quality", 2, "ann")
    ratings.rate_cell(ws, cell, "quality", 4, "bob")
    db.write(
        ws,
        lambda s: s.add(
            Score(
                cell_id=cell,
                run_id=seeded.run_id,
                evaluator="contains",
                name="mentions refund",
                value=1.0,
                passed=True,
            )
        ),
    )
    grid = compare.grid_page(ws, [seeded.run_id], rater="bob")
    view = grid.rows[0].cells[seeded.variant_ids[0]]
    summary = view.ratings["quality"]
    assert summary.count == 2 and summary.values == {"ann": 2, "bob": 4}
    assert summary.mean_score == pytest.approx(0.5)
    assert view.mine == {"quality": 4}
    assert view.scores == {"mentions refund": 1.0} and view.passed == {"mentions refund": True}


def test_word_diff_against_a_pinned_baseline(ws) -> None:
    def output(row: int, variant: int, repeat: int) -> str:
        return "The order arrived broken." if variant == 0 else "The parcel arrived broken, sadly."

    seeded = seed_run(ws, rows=1, output=output)
    base, other = seeded.variant_ids
    grid = compare.grid_page(ws, [seeded.run_id], baseline=base)
    row = grid.rows[0]
    assert row.cells[base].diff is None
    segments = row.cells[other].diff
    assert segments is not None
    assert [(s.kind, s.text) for s in segments] == [
        ("same", "The "),
        ("removed", "order"),
        ("added", "parcel"),
        ("same", " arrived broken"),
        ("added", ", sadly"),
        ("same", "."),
    ]
    # the new text is exactly the same and added pieces
    assert "".join(s.text for s in segments if s.kind != "removed") == row.cells[other].output
    with pytest.raises(PromptyardError, match="baseline column 999"):
        compare.grid_page(ws, [seeded.run_id], baseline=999)


def test_repeats_are_shown_together_with_their_agreement(ws) -> None:
    def output(row: int, variant: int, repeat: int) -> str:
        return "yes" if repeat < 2 or variant == 1 else "no"

    seeded = seed_run(ws, rows=2, repeats=3, output=output)
    grid = compare.grid_page(ws, [seeded.run_id])
    assert grid.total_rows == 2
    flaky = grid.rows[0].cells[seeded.variant_ids[0]]
    assert flaky.repeat == 0 and [r.repeat for r in flaky.repeats] == [1, 2]
    assert flaky.agreement == pytest.approx(2 / 3)
    assert grid.rows[0].cells[seeded.variant_ids[1]].agreement == 1.0


def test_two_runs_over_the_same_dataset_side_by_side(ws) -> None:
    one = seed_run(ws, rows=3, variants=[("summarize", 1, "sim-fast")])
    two = seed_run(ws, rows=3, variants=[("summarize", 2, "sim-fast")])
    grid = compare.grid_page(ws, [one.run_id, two.run_id])
    assert [c.label for c in grid.columns] == [
        f"#{one.run_id} summarize v1 · sim-fast",
        f"#{two.run_id} summarize v2 · sim-fast",
    ]
    assert grid.total_rows == 3 and all(len(r.cells) == 2 for r in grid.rows)
    other = seed_run(ws, rows=3, dataset="invoices")
    with pytest.raises(PromptyardError, match="different datasets"):
        compare.grid_page(ws, [one.run_id, other.run_id])
    with pytest.raises(NotFoundError, match="run 999 does not exist"):
        compare.grid_page(ws, [999])


def test_export_csv_and_jsonl(ws) -> None:
    seeded = seed_run(ws, rows=3, repeats=2, errors=[(1, 1)])
    ratings.rate_cell(ws, seeded.cell_id(0), "quality", 3, "ann")
    records = [json.loads(x) for x in export_grid(ws, [seeded.run_id], "jsonl").splitlines()]
    assert len(records) == 3 * 2 * 2
    first = next(r for r in records if r["cell_id"] == seeded.cell_id(0))
    assert first["ratings"] == {"quality": {"ann": 3}} and first["inputs"]["ticket"]
    rows = list(csv.DictReader(io.StringIO(export_grid(ws, [seeded.run_id], "csv"))))
    assert len(rows) == 12
    assert {r["status"] for r in rows} == {"ok", "error"}
    errors_only = export_grid(ws, [seeded.run_id], "jsonl", GridFilters(errors_only=True))
    assert {json.loads(x)["row_id"] for x in errors_only.splitlines()} == {"r00001"}
    with pytest.raises(PromptyardError, match="unknown export format"):
        export_grid(ws, [seeded.run_id], "xlsx")


def test_trace_shows_the_call_and_the_prompt_diff(workspace) -> None:
    store = Store(workspace)
    history = store.history("prompts/summarize.prompty")
    assert len(history) >= 2
    v1, v2 = history[0], history[1]
    seeded = seed_run(
        workspace,
        rows=1,
        variants=[("summarize", 1, "sim-fast"), ("summarize", 2, "sim-fast")],
        prompt_shas=[v1.sha, v2.sha],
        errors=[(0, 0)],
    )
    trace = cell_trace(workspace, seeded.cell_id(0, 1))
    assert trace.messages[0]["role"] == "system" and trace.parameters == {"temperature": 0}
    assert trace.raw_response["choices"][0]["message"]["content"] == trace.output
    assert trace.prompt_version == 2 and trace.previous_version == 1
    assert trace.prompt_diff and trace.prompt_diff.startswith("---") and "\n+" in trace.prompt_diff
    failed = cell_trace(workspace, seeded.cell_id(0, 0))
    assert failed.error_kind == "rate_limit" and failed.attempts == 3 and failed.retries == 2
    assert failed.previous_version is None and failed.prompt_diff is None  # v1 has no parent
    with pytest.raises(NotFoundError, match="cell 4242 does not exist"):
        cell_trace(workspace, 4242)
