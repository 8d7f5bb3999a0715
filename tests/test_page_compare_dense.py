"""The dense Compare grid: column summaries, the reference once, pass/fail colours, keys."""

from __future__ import annotations

import json
import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from promptyard import ratings
from promptyard.evals import score_run
from promptyard.evals.evaluators import Assertion
from promptyard.storage import db
from promptyard.storage.tables import Cell
from tests.ratings_seed import seed_run

PAGE = str(Path(__file__).resolve().parent.parent / "app" / "views" / "compare.py")


def _app() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _captions(at: AppTest) -> list[str]:
    """Captions as a reader sees them (markdown escapes taken out)."""
    return [re.sub(r"\\(.)", r"\1", c.value) for c in at.caption]


def test_column_headers_sum_up_each_column_with_a_dash_for_unknown(workspace) -> None:
    seed_run(workspace, rows=3, errors=[(0, 1)])
    at = _app()
    heads = [c for c in _captions(at) if c.startswith("pass ")]
    assert len(heads) == 2
    # no suite scored these cells: the pass rate is unknown, shown as a dash, not None
    assert heads[0].startswith("pass — · p50 10") and "None" not in heads[0]
    assert heads[0].endswith("cost $0.000060 · 0 errors")
    assert heads[1].endswith("1 error")


def test_pass_rate_and_colours_per_cell_and_per_assertion(workspace) -> None:
    seeded = seed_run(workspace, rows=2)
    score_run(workspace, seeded.run_id, [Assertion("icontains", "customer")])
    at = _app()
    heads = [c for c in _captions(at) if c.startswith("pass ")]
    assert heads[0].startswith("pass 100%") and heads[1].startswith("pass 0%")
    marks = [m.value for m in at.markdown]
    assert sum(":green-badge[:material/check: pass]" in m for m in marks) == 2
    assert sum(":red-badge[:material/close: fail]" in m for m in marks) == 2
    assert sum(":red-badge[icontains]" in m for m in marks) == 2


def test_the_reference_is_shown_once(workspace) -> None:
    seeded = seed_run(workspace, rows=1)

    def _write(s) -> None:  # type: ignore[no-untyped-def]
        for c in s.query(Cell).filter(Cell.run_id == seeded.run_id):
            c.inputs_json = json.dumps({"ticket": "Broken order", "expected": c.reference})
            s.add(c)

    db.write(workspace, _write)
    at = _app()
    texts = [t.value for t in at.text]
    assert texts.count("Refund for broken order 0.") == 1
    assert "expected" not in _captions(at) and "reference" in _captions(at)


def test_rate_the_grid_with_keys_then_undo(workspace) -> None:
    seeded = seed_run(workspace, rows=2)
    at = _app()
    at.text_input(key="rater_name").input("ann").run()
    at.selectbox(key="compare.scheme").select("quality").run()
    assert at.button(key="compare.key::4").proto.shortcut == "4"
    assert any("keys rate this cell" in m.value for m in at.markdown)
    at.button(key="compare.key::4").click().run()
    at.button(key="compare.key::2").click().run()
    mine = ratings.current_ratings(workspace, seeded.run_id, "quality", rater="ann")
    assert {r.cell_id: ratings.rating_value(r) for r in mine} == {
        seeded.cell_id(0, 0): 4,
        seeded.cell_id(0, 1): 2,
    }
    assert any(c.startswith("Keyboard rating: row #2") for c in _captions(at))
    at.button(key="compare.key_undo").click().run()
    mine = ratings.current_ratings(workspace, seeded.run_id, "quality", rater="ann")
    assert [ratings.rating_value(r) for r in mine] == [4]
    assert any(c.startswith("Keyboard rating: row #1") for c in _captions(at))


def test_a_cached_cells_trace_says_so_and_costs_this_run_nothing(workspace, sim) -> None:  # type: ignore[no-untyped-def]
    from promptyard import runs

    def _run() -> int:
        plan = runs.plan_run(
            workspace, [("summarize", None)], ["sim-fast"], ("summaries", None), slice="head:1"
        )
        run_id = runs.create_run(workspace, plan)
        runs.run_sync(workspace, run_id)
        return run_id

    first, second = _run(), _run()
    with db.session(workspace) as s:
        original = s.query(Cell).filter(Cell.run_id == first).one()
        cached = s.query(Cell).filter(Cell.run_id == second).one()
    assert cached.cached and original.cost_usd
    at = _app()
    at.selectbox(key="compare.run").select(second).run()
    assert any(
        c == "cached · $0 this run" or c.endswith("cached · $0 this run") for c in _captions(at)
    )
    at.button(key=f"compare.trace_btn::{cached.id}").click().run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Cost (this run)"] == "$0"
    assert metrics["Attempts"] == "none (cache)"  # not "0", as if no call had been needed
    assert "Attempts 0" not in " ".join(f"{k} {v}" for k, v in metrics.items())
    [note] = [i.value for i in at.info if "Served from the cache" in i.value]
    assert f"cell {original.id} of run {first}" in note
    assert f"cost ${original.cost_usd:.5f}" in note and "latency" in note
    head = next(c for c in _captions(at) if c.startswith("pass "))
    assert "cost $0.0000" in head and "p50 —" in head
