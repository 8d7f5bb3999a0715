"""Planning streams its dataset: rows read one at a time from the file (or from git for
an older version), rendered into a spool, and the plan's cells read back from it, the
same on every iteration. What planning guaranteed before still holds: missing variables
named per row, slices, mappings, the dataset sha, the estimate."""

from __future__ import annotations

import json
from typing import Any

import pytest

from promptyard import datasets, runs
from promptyard.datasets import DatasetError, SliceSpec
from promptyard.workspace import Workspace

SUMMARIZE = [("summarize", None)]
ROWS = 30_000  # past the spool's in-memory part, so the rows are read back from a file


def _write(ws: Workspace, name: str, rows: list[dict[str, Any]]) -> None:
    path = ws.root / "datasets" / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _big(ws: Workspace, n: int = ROWS) -> None:
    _write(ws, "big", [{"id": f"r{i:06}", "text": f"ticket number {i}"} for i in range(n)])


def _user(cell: runs.PlannedCell) -> str:
    return str(json.loads(cell.messages_json)[-1]["content"])


def test_a_large_dataset_plans_correct_cells_at_the_start_middle_and_end(
    workspace: Workspace,
) -> None:
    _big(workspace)
    plan = runs.plan_run(workspace, SUMMARIZE, ["sim-fast", "sim-smart"], ("big", None), repeats=2)
    assert plan.calls == len(plan.cells) == ROWS * 2 * 2
    cells = plan.cells
    for index in (0, 1, ROWS, ROWS * 2 - 1, ROWS * 2, ROWS * 3 + 7, ROWS * 4 - 1):
        cell = cells[index]
        variant, rest = divmod(index, ROWS * 2)
        row, repeat = divmod(rest, 2)
        assert (cell.variant, cell.row_index, cell.repeat) == (variant, row, repeat)
        assert cell.row_id == f"r{row:06}"
        assert json.loads(cell.inputs_json) == {"text": f"ticket number {row}"}
        assert f"ticket number {row}\n" in _user(cell)
    # Variant-major, each variant's rows ascending from 0; iterating twice agrees.
    first = [(c.variant, c.row_index, c.repeat, c.cache_key) for c in cells]
    second = [(c.variant, c.row_index, c.repeat, c.cache_key) for c in cells]
    assert first == second
    assert first[0][:3] == (0, 0, 0) and first[-1][:3] == (1, ROWS - 1, 1)
    assert [r for v, r, rep, _ in first if v == 1 and rep == 0] == list(range(ROWS))
    # Both models share one rendered prompt per row (one template group)...
    assert cells.templates[0] == cells.templates[1]  # type: ignore[attr-defined]
    assert cells[5].messages_json == cells[ROWS * 2 + 5].messages_json
    # ...and every cell read by index is the cell iteration gives.
    assert [cells[i].cache_key for i in range(ROWS * 2 - 3, ROWS * 2 + 3)] == [
        k for *_, k in first[ROWS * 2 - 3 : ROWS * 2 + 3]
    ]


def test_two_iterations_at_once_do_not_disturb_each_other(workspace: Workspace) -> None:
    _big(workspace)
    plan = runs.plan_run(workspace, SUMMARIZE, ["sim-fast"], ("big", None))
    a, b = iter(plan.cells), iter(plan.cells)
    pairs = [(next(a).row_id, next(b).row_id, next(b).row_id) for _ in range(ROWS // 2)]
    assert pairs[0] == ("r000000", "r000000", "r000001")
    assert pairs[-1] == (f"r{ROWS // 2 - 1:06}", f"r{ROWS - 2:06}", f"r{ROWS - 1:06}")


def test_the_estimate_counts_every_cell_of_a_streamed_plan(workspace: Workspace) -> None:
    _write(workspace, "few", [{"id": f"r{i}", "text": "word " * (i + 1)} for i in range(5)])
    plan = runs.plan_run(workspace, SUMMARIZE, ["sim-fast", "sim-smart"], ("few", None), repeats=3)
    estimate = runs.estimate(plan, 8)
    held = runs.RunPlan(plan.variants, list(plan.cells), repeats=3)  # every cell, held
    assert estimate.calls == runs.estimate(held, 8).calls == 30
    assert estimate.prompt_tokens == runs.estimate(held, 8).prompt_tokens > 0


def test_missing_variables_are_named_per_row_before_anything_is_stored(
    workspace: Workspace,
) -> None:
    rows: list[dict[str, Any]] = [{"id": f"r{i:06}", "text": f"t{i}"} for i in range(ROWS)]
    for i in (3, ROWS // 2, ROWS - 1):
        rows[i] = {"id": f"r{i:06}", "body": "no text here"}
    _write(workspace, "holes", rows)
    with pytest.raises(runs.MissingColumnsError) as caught:
        runs.plan_run(workspace, SUMMARIZE, ["sim-fast"], ("holes", None))
    (missing,) = caught.value.missing
    assert missing.variables == ("text",)
    assert missing.row_ids == ("r000003", f"r{ROWS // 2:06}", f"r{ROWS - 1:06}")
    assert runs.list_runs(workspace) == []


def test_slices_and_mappings_apply_to_a_streamed_dataset(workspace: Workspace) -> None:
    rows = [
        {"id": f"r{i:04}", "body": f"b{i}", "kind": "odd" if i % 2 else "even"} for i in range(400)
    ]
    _write(workspace, "mapped", rows)
    mapping = runs.VariableMapping(columns={"text": "body"})
    head = runs.plan_run(
        workspace, SUMMARIZE, ["sim-fast"], ("mapped", None), slice="head:3", mapping=mapping
    )
    assert [c.row_id for c in head.cells] == ["r0000", "r0001", "r0002"]
    assert "b2\n" in _user(head.cells[2]) and head.slice["slice"] == "head:3"
    picked = runs.plan_run(
        workspace, SUMMARIZE, ["sim-fast"], ("mapped", None), slice="random:7:3", mapping=mapping
    )
    whole = datasets.load_dataset(workspace, "mapped")
    expected = [r["id"] for r in datasets.select_rows(whole, SliceSpec.parse("random:7:3"))]
    assert [c.row_id for c in picked.cells] == expected
    odd = runs.plan_run(
        workspace, SUMMARIZE, ["sim-fast"], ("mapped", None),
        slice="filter:kind == odd", mapping=mapping,
    )  # fmt: skip
    assert [c.row_id for c in odd.cells][:3] == ["r0001", "r0003", "r0005"]
    assert odd.calls == 200
    with pytest.raises(DatasetError, match="unknown column 'colour'"):
        runs.plan_run(
            workspace, SUMMARIZE, ["sim-fast"], ("mapped", None), slice="filter:colour == red"
        )
    with pytest.raises(runs.MappingError, match="--map text=nope: no such column"):
        runs.plan_run(
            workspace, SUMMARIZE, ["sim-fast"], ("mapped", None),
            mapping=runs.VariableMapping(columns={"text": "nope"}),
        )  # fmt: skip


def test_a_dataset_at_an_older_version_plans_its_old_rows(workspace: Workspace) -> None:
    first = datasets.save_dataset(
        workspace, "versions", [{"id": f"o{i}", "text": f"old {i}"} for i in range(50)], "old"
    )
    datasets.save_dataset(
        workspace, "versions", [{"id": f"n{i}", "text": f"new {i}"} for i in range(3)], "new"
    )
    old = runs.plan_run(workspace, SUMMARIZE, ["sim-fast"], ("versions", first.ref))
    assert old.dataset_sha == first.sha and old.calls == 50
    assert [c.row_id for c in old.cells][-1] == "o49" and "old 49\n" in _user(old.cells[49])
    new = runs.plan_run(workspace, SUMMARIZE, ["sim-fast"], ("versions", None))
    assert [c.row_id for c in new.cells] == ["n0", "n1", "n2"]
    # The streamed reader of the old version gives exactly the rows the loader gives.
    stream = datasets.stream_dataset(workspace, "versions", first.ref)
    assert list(stream.slice(None)) == datasets.load_dataset(workspace, "versions", first.ref).rows


def test_a_stream_checks_every_id_and_learns_the_reference(workspace: Workspace) -> None:
    rows = [{"id": f"r{i}", "text": "t"} for i in range(100)]
    _write(workspace, "dups", [*rows, {"id": "r42", "text": "again"}])
    with pytest.raises(DatasetError, match="line 101: duplicate id 'r42'"):
        list(datasets.stream_dataset(workspace, "dups").slice(SliceSpec.parse("head:2")))
    # A reference column that first appears late still gives every row its reference.
    _write(
        workspace,
        "late",
        [{"id": "a", "text": "x", "answer": "A"}, {"id": "b", "text": "y", "expected": "B"}],
    )
    plan = runs.plan_run(workspace, SUMMARIZE, ["sim-fast"], ("late", None))
    assert [c.reference for c in plan.cells] == [None, "B"]  # `expected` outranks `answer`
    assert datasets.load_dataset(workspace, "late").reference == "expected"


def test_a_hand_written_file_without_ids_still_plans(workspace: Workspace) -> None:
    _write(workspace, "noids", [{"id": "given", "text": "a"}, {"text": "b"}, {"text": "c"}])
    plan = runs.plan_run(workspace, SUMMARIZE, ["sim-fast"], ("noids", None))
    loaded = datasets.load_dataset(workspace, "noids")
    assert [c.row_id for c in plan.cells] == [r["id"] for r in loaded.rows]
    assert plan.cells[0].row_id == "given"
