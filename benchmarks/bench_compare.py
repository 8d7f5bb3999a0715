"""How fast Compare and labeling are on a 10,000-row x 6-column run.

Seeds a workspace (init + one completed run of 10,000 rows x 6 variants = 60,000 cells,
one in 50 failed), then times:
- the grid's first page (library call, cold and warm), with each filter and a baseline diff;
- one full script run of the Compare page (AppTest: the server time until the first page
  is drawn);
- the next cell of a labeling session (next_cell + session_progress, what the Rate page
  asks per cell) with 0, 1,000 and 30,000 ratings already in the run;
- the next blind pair.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_compare.py [--rows 10000] [--columns 6]
        [--scores]

Prints a table; the numbers go in docs/benchmarks.md ("## Compare and rating").
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "app"))
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from promptyard import ratings  # noqa: E402
from promptyard.evals import stored_results  # noqa: E402
from promptyard.reading import GridFilters, column_summaries, compare  # noqa: E402
from promptyard.runs import list_runs  # noqa: E402
from promptyard.storage import bump_score_generation, db  # noqa: E402
from promptyard.storage.tables import Rating  # noqa: E402
from promptyard.versioning.init import init_workspace  # noqa: E402
from tests.ratings_seed import seed_run  # noqa: E402

ROWS: list[tuple[str, str, str]] = []


def timed(label: str, fn: Callable[[], Any], repeat: int = 5, note: str = "") -> Any:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    ROWS.append((label, f"{statistics.median(times):8.1f}", f"{max(times):8.1f}", note))
    return result


def output(row: int, variant: int, repeat: int) -> str:
    words = ["refund", "replace", "apologise", "escalate", "ship again", "call back"]
    return (
        f"Ticket {row}: the customer's order arrived broken. We should {words[(row + variant) % 6]}"
        f" and confirm by email within {1 + (row * variant) % 5} days."
    )


def bulk_ratings(ws: Any, run_id: int, cell_ids: list[int], raters: list[str]) -> None:
    records = [
        {
            "cell_id": c,
            "run_id": run_id,
            "scheme": "quality",
            "rater": r,
            "value_json": "3",
            "score": 0.5,
            "created_at": datetime.now(UTC),
        }
        for c in cell_ids
        for r in raters
    ]
    db.write(ws, lambda s: s.execute(insert(Rating), records))


def default_scores(ws: Any, run_id: int) -> None:
    """Two scores per cell (non-empty, and the suite's row verdict), as every finished run
    gets from the default checks, written set-based; the run's score generation bumped."""

    def add(s: Any) -> None:
        for evaluator, name in (("regex", "non-empty"), ("suite", "row")):
            s.execute(
                text(
                    "INSERT INTO score (cell_id, run_id, evaluator, name, suite, value, passed,"
                    " reason, created_at) SELECT id, run_id, :e, :n, 'default', 1.0,"
                    " status = 'ok', NULL, :at FROM cell WHERE run_id = :r"
                ),
                {"e": evaluator, "n": name, "r": run_id, "at": datetime.now(UTC)},
            )
        bump_score_generation(s, [run_id])

    db.write(ws, add)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--columns", type=int, default=6)
    parser.add_argument(
        "--scores",
        action="store_true",
        help="give every cell the default checks' two scores, as a finished run has",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-compare-"))
    try:
        measure(args, tmp)
    finally:
        db.dispose_engines()
        shutil.rmtree(tmp, ignore_errors=True)


def measure(args: argparse.Namespace, tmp: Path) -> None:
    os.environ["PROMPTYARD_HOME"] = str(tmp / "ws")
    ws = init_workspace(tmp / "ws")
    variants = [("summarize", 1 + i % 2, f"model-{i}") for i in range(args.columns)]
    start = time.perf_counter()
    errors = [(r, r % args.columns) for r in range(0, args.rows, 50)]
    seeded = seed_run(
        ws, rows=args.rows, variants=variants, output=output, errors=errors, shared=True
    )  # rows and prompts stored once per run, as runs store them since m024
    seed_s = time.perf_counter() - start
    run = [seeded.run_id]
    cells = args.rows * args.columns
    print(f"seeded {args.rows:,} rows x {args.columns} columns = {cells:,} cells in {seed_s:.1f} s")
    if args.scores:
        start = time.perf_counter()
        default_scores(ws, seeded.run_id)
        print(f"scored every cell as the default checks do in {time.perf_counter() - start:.1f} s")

    db.dispose_engines()
    timed("grid first page, cold (new engine)", lambda: compare.grid_page(ws, run, 0, 20), 1)
    timed("grid first page, warm (20 rows)", lambda: compare.grid_page(ws, run, 0, 20))
    timed(
        "grid last page (offset 9,980)", lambda: compare.grid_page(ws, run, args.rows // 20 - 1, 20)
    )
    timed("grid page of 100 rows", lambda: compare.grid_page(ws, run, 0, 100))
    base = seeded.variant_ids[0]
    timed(
        "first page + word diff vs baseline",
        lambda: compare.grid_page(ws, run, 0, 20, baseline=base),
    )
    for label, filters in [
        ("filter: errors only", GridFilters(errors_only=True)),
        ("filter: columns differ", GridFilters(differ_only=True)),
        ("filter: unrated", GridFilters(rated="unrated")),
        ("filter: low-rated", GridFilters(low_rated=True)),
        ("filter: text search", GridFilters(search="call back")),
    ]:
        timed(label, lambda f=filters: compare.grid_page(ws, run, 0, 20, f))

    timed("runs list (counts, spend, errors by kind)", lambda: list_runs(ws, kind=None))
    timed("Compare header (column summaries)", lambda: column_summaries(ws, run))
    timed("suite results (Evaluate panel)", lambda: stored_results(ws, seeded.run_id))

    from streamlit.testing.v1 import AppTest

    def render() -> None:
        at = AppTest.from_file(str(ROOT / "app" / "views" / "compare.py"), default_timeout=120)
        at.run()
        assert not at.exception, [e.value for e in at.exception]

    timed("Compare page script run (AppTest, first page)", render, 3)

    sess = ratings.open_session(ws, seeded.run_id, "rate", "quality", raters_per_cell=2)
    assert sess.id is not None
    sid = sess.id

    def next_item() -> None:
        item = ratings.next_cell(ws, sid, "bench")
        ratings.session_progress(ws, sid, "bench")
        assert item is not None

    timed("next labeling cell, 0 ratings", next_item, 10)
    ids = sorted(seeded.cells.values())
    own, shared = cells // 60, cells * 16 // 60  # 1,000 and 16,000 cells at 60,000
    bulk_ratings(ws, seeded.run_id, ids[:own], ["bench"])
    timed(f"next labeling cell, {own:,} ratings (rater's own)", next_item, 10)
    bulk_ratings(ws, seeded.run_id, ids[own:shared], ["ann", "bob"])
    total = own + 2 * (shared - own)
    timed(f"next labeling cell, {total:,} ratings", next_item, 10)
    cell = ratings.next_cell(ws, sid, "bench")
    assert cell is not None
    timed(
        "rate a cell (validate + write)",
        lambda: ratings.rate_cell(ws, cell.cell_id, "quality", 4, "bench", session_id=sid),
        5,
    )
    pair_sess = ratings.open_session(
        ws, seeded.run_id, "pairwise", variant_ids=seeded.variant_ids[:2]
    )
    assert pair_sess.id is not None
    timed("next blind pair", lambda: ratings.next_pair(ws, pair_sess.id or 0, "bench"), 10)

    width = max(len(r[0]) for r in ROWS)
    print(f"\n{'operation':<{width}} | median ms | max ms")
    print(f"{'-' * width}-|-----------|-------")
    for label, median, worst, _ in ROWS:
        print(f"{label:<{width}} | {median:>9} | {worst:>6}")


if __name__ == "__main__":
    main()
