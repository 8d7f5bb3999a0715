"""How fast the dashboard is on a big SQLite database.

Builds a workspace database with 1,000,000 cells and 200,000 ratings (plus pairwise votes
and evaluator scores), then times every aggregate the dashboard computes and one full
render of the Dashboard page (AppTest), and reports the peak memory (max RSS).

    PYTHONPATH=src .venv/bin/python benchmarks/bench_dashboard.py [--cells N] [--ratings N] [--default-scores]

Prints a table; the numbers go in docs/benchmarks.md ("## Dashboard").
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "app"))

from promptyard.reading import analytics  # noqa: E402
from promptyard.storage import db  # noqa: E402
from promptyard.workspace import Workspace  # noqa: E402

MODELS = ("sim-fast", "sim-smart", "gpt-4o-mini", "claude-3-5-haiku")
VERSIONS = 5
RUNS = 40  # each run: every version on one pair of models -> 10 variants


def generate(
    ws: Workspace, cells: int, ratings: int, default_scores: bool = False
) -> dict[str, int]:
    """Fill the database fast: a few set-based INSERT ... SELECT over recursive CTEs."""
    engine = db.get_engine(ws)
    variants_per_run = VERSIONS * 2
    n_variants = RUNS * variants_per_run
    per_variant = cells // n_variants
    with engine.begin() as conn:
        for r in range(1, RUNS + 1):
            conn.execute(
                text(
                    "INSERT INTO run (id, name, created_at, status, dataset_name, slice_json,"
                    " repeats, concurrency, use_cache, total_cells, cancel_requested, kind)"
                    " VALUES (:id, :name, :at, 'completed', :ds, '{}', 1, 8, 1, :n, 0, 'run')"
                ),
                {
                    "id": r,
                    "name": f"run {r}",
                    "at": f"2026-10-{1 + r % 28:02d} 12:00:00.000000",
                    "ds": "tickets" if r % 2 else "faq",
                    "n": per_variant * variants_per_run,
                },
            )
            pair = (MODELS[r % 4], MODELS[(r + 1) % 4])
            for k in range(variants_per_run):
                vid = (r - 1) * variants_per_run + k + 1
                conn.execute(
                    text(
                        "INSERT INTO variant (id, run_id, position, prompt_name, prompt_version,"
                        " model, parameters_json, template) VALUES (:id, :run, :pos, 'summarize',"
                        " :ver, :model, '{}', :template)"
                    ),
                    {
                        "id": vid,
                        "run": r,
                        "pos": k,
                        "ver": k % VERSIONS + 1,
                        "model": pair[k // 5],
                        "template": k % VERSIONS,  # the variants of one version render alike
                    },
                )
        # Cells: one per (variant, row); latency/cost/tokens vary with a cheap hash of the id.
        # Latency and price depend on the model (and a little on the version), as in life:
        # the same prompt version on the same model behaves alike from run to run.
        conn.execute(
            text(
                """WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq
                                              WHERE i + 1 < :n)
                INSERT INTO cell (id, run_id, variant_id, row_id, row_index, repeat, inputs_json,
                    messages_json, status, output, prompt_tokens, completion_tokens, cost_usd,
                    latency_ms, error_kind, cached, attempts)
                SELECT i + 1, (i / :pv) / :vpr + 1, i / :pv + 1, 'r' || (i % :pv), i % :pv, 0,
                    '', '',
                    CASE WHEN (i * 7919) % 100 < 2 THEN 'error' ELSE 'ok' END,
                    'output text',
                    100 + (i * 31) % 400, 20 + (i * 17) % 200,
                    0.000001 * (100 + (i * 31) % 400) * (1 + length(v.model) % 4),
                    200.0 + 10 * v.prompt_version
                        + ((i * 2654435761) % 1000003) / 1000.0 * (1 + length(v.model) % 3),
                    CASE WHEN (i * 7919) % 100 < 2 THEN 'timeout' END,
                    CASE WHEN (i * 13) % 50 = 0 THEN 1 ELSE 0 END, 1
                FROM seq JOIN variant v ON v.id = i / :pv + 1"""
            ),
            {"n": per_variant * n_variants, "pv": per_variant, "vpr": variants_per_run},
        )
        # Each run's rows once, and each version's rendered prompt once per row (m024).
        conn.execute(
            text(
                """WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq
                                              WHERE i + 1 < :pv)
                INSERT INTO run_row (run_id, row_index, row_id, inputs_json, reference)
                SELECT r.id, i, 'r' || i, '{"text": "ticket ' || i || '"}', 'reference ' || i
                FROM run r, seq"""
            ),
            {"pv": per_variant},
        )
        conn.execute(
            text(
                """WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq
                                              WHERE i + 1 < :pv)
                INSERT INTO run_message (run_id, template, row_index, messages_json)
                SELECT v.run_id, v.template, i,
                    '[{"role": "user", "content": "Summarize: ticket ' || i || '"}]'
                FROM variant v, seq WHERE v.position < :versions"""
            ),
            {"pv": per_variant, "versions": VERSIONS},
        )
        # Ratings: spread over the cells (every k-th cell), score in 0..1.
        step = max(1, (per_variant * n_variants) // ratings)
        conn.execute(
            text(
                """WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq
                                              WHERE i + 1 < :n)
                INSERT INTO rating (cell_id, run_id, scheme, rater, value_json, score,
                    created_at)
                SELECT i * :step + 1, ((i * :step) / :pv) / :vpr + 1, 'quality', 'rater',
                    '3', ((i * 37) % 5) / 4.0, '2026-10-15 12:00:00.000000'
                FROM seq"""
            ),
            {"n": ratings, "step": step, "pv": per_variant, "vpr": variants_per_run},
        )
        # Pairwise votes (20,000) between neighbouring variants of a run, and scores (100,000).
        conn.execute(
            text(
                """WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq
                                              WHERE i + 1 < 20000)
                INSERT INTO pairwise_vote (run_id, row_id, cell_a_id, cell_b_id, variant_a_id,
                    variant_b_id, a_shown_left, choice, rater, created_at)
                SELECT (i % :nv) / :vpr + 1, 'r0', (i % :nv) * :pv + 1,
                    ((i % :nv) / :vpr * :vpr + ((i % :nv) % :vpr + 1) % :vpr) * :pv + 1,
                    i % :nv + 1, (i % :nv) / :vpr * :vpr + ((i % :nv) % :vpr + 1) % :vpr + 1,
                    1, CASE i % 3 WHEN 0 THEN 'a' WHEN 1 THEN 'b' ELSE 'tie' END, 'rater',
                    '2026-10-15 12:00:00.000000'
                FROM seq"""
            ),
            {"nv": n_variants, "vpr": variants_per_run, "pv": per_variant},
        )
        conn.execute(
            text(
                """WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq
                                              WHERE i + 1 < 100000)
                INSERT INTO score (cell_id, run_id, evaluator, name, value, passed, created_at)
                SELECT i * 10 + 1, ((i * 10) / :pv) / :vpr + 1, 'contains', 'mentions', 1.0,
                    CASE WHEN i % 4 = 0 THEN 0 ELSE 1 END, '2026-10-15 12:00:00.000000'
                FROM seq"""
            ),
            {"pv": per_variant, "vpr": variants_per_run},
        )
        if default_scores:  # what every finished run gets: two default-check scores a cell
            for evaluator, name in (("regex", "non-empty"), ("suite", "row")):
                conn.execute(
                    text(
                        "INSERT INTO score (cell_id, run_id, evaluator, name, suite, value,"
                        " passed, created_at) SELECT id, run_id, :e, :n, 'default', 1.0,"
                        " CASE WHEN status = 'ok' THEN 1 ELSE 0 END,"
                        " '2026-10-15 12:00:00.000000' FROM cell"
                    ),
                    {"e": evaluator, "n": name},
                )
        # The engine's score writers bump each run's score generation; so does this seed.
        conn.execute(text("INSERT INTO score_generation SELECT DISTINCT run_id, 1 FROM score"))
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    return count_rows(ws)


def count_rows(ws: Workspace) -> dict[str, int]:
    with db.get_engine(ws).connect() as conn:
        return {
            t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()  # noqa: S608
            for t in ("run", "variant", "cell", "rating", "pairwise_vote", "score")
        }


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, float, Any]:
    """Best of `repeat` wall times and CPU times (s) of this process, and the last result.

    CPU time is reported too because the benchmark machine may be shared: wall time
    grows with other processes' load, CPU time much less.
    """
    best, best_cpu, result = float("inf"), float("inf"), None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best, best_cpu, result


def render_page(ws: Workspace) -> list[tuple[str, float, float]]:
    """Wall and CPU seconds of the Dashboard page's first render (cold caches) and of a
    rerun after a widget change (the monthly volume), in AppTest."""
    from streamlit.testing.v1 import AppTest

    os.environ["PROMPTYARD_HOME"] = str(ws.root)
    at = AppTest.from_file(str(ROOT / "app" / "views" / "dashboard.py"), default_timeout=300)
    out = []
    for name, step in (
        ("Dashboard page, first render (AppTest)", lambda: at.run()),
        (
            "Dashboard page, rerun after changing the volume",
            lambda: at.number_input(key="dashboard.monthly_calls").set_value(250_000).run(),
        ),
    ):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        out.append((name, time.perf_counter() - t0, time.process_time() - c0))
        if at.exception:
            raise RuntimeError(str(at.exception[0].value))
    return out


def max_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=1_000_000)
    parser.add_argument("--ratings", type=int, default=200_000)
    parser.add_argument("--no-page", action="store_true", help="skip the page render")
    parser.add_argument(
        "--default-scores",
        action="store_true",
        help="also give every cell the default checks' two scores, as finished runs have",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="build the workspace in DIR and keep it; reuse it when DIR already holds one",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(args.keep or Path(tmp))
        db_file = ws.data_dir / "promptyard.db"
        t0 = time.perf_counter()
        if args.keep and db_file.exists():
            counts = count_rows(ws)
            what = "reused"
        else:
            counts = generate(ws, args.cells, args.ratings, args.default_scores)
            what = "generated"
        gen_s = time.perf_counter() - t0
        size_mb = db_file.stat().st_size / 1e6
        print(f"{what} in {gen_s:.1f} s: {counts}, database {size_mb:.0f} MB\n")

        everything = analytics.Filters()
        one_run = analytics.Filters(run_ids=(7,))
        lately = analytics.Filters(since=date(2026, 10, 10), models=("sim-fast",))
        rows: list[tuple[str, float, float, str]] = []
        # The per-variant summaries (table variant_stats): computed once for data written
        # without the engine (as here), and by the engine for a run when it finishes.
        engine = db.get_engine(ws)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM variant_stats"))
        seconds, cpu, result = timed(lambda: analytics.variant_rows(ws, everything), repeat=1)
        rows.append(("summaries of all 400 variants, computed and stored (once)", seconds, cpu,
                     f"{len(result)} rows"))  # fmt: skip
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM variant_rating_stats"))
        seconds, cpu, result = timed(lambda: analytics.human_scores(ws, everything), repeat=1)
        rows.append(("rating sums of all 40 runs, computed and stored (once)", seconds, cpu,
                     f"{len(result)} rows"))  # fmt: skip
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM variant_score_stats"))
        seconds, cpu, result = timed(
            lambda: analytics.evaluator_pass_rates(ws, everything), repeat=1
        )
        rows.append(("score sums of all 40 runs, computed and kept (once)", seconds, cpu,
                     f"{len(result)} rows"))  # fmt: skip
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM variant_stats WHERE run_id = 7"))
        seconds, cpu, _ = timed(lambda: analytics.refresh_variant_stats(ws, 7), repeat=1)
        rows.append(("summaries of one run refreshed (the engine, as a run ends)", seconds, cpu,
                     "10 variants, 25,000 cells"))  # fmt: skip
        for name, fn in (
            ("cell stats (all)", lambda: analytics.cell_stats(ws, everything)),
            ("latency p50/p95/p99 (all)", lambda: analytics.latency_percentiles(ws, everything)),
            ("human scores + 95% CI (all)", lambda: analytics.human_scores(ws, everything)),
            ("win rates (all)", lambda: analytics.win_rates(ws, everything)),
            ("evaluator pass rates (all)", lambda: analytics.evaluator_pass_rates(ws, everything)),
            (
                "latency samples (all, ≤ 1,000 per key)",
                lambda: analytics.latency_samples(ws, everything),
            ),
            ("leaderboard (all)", lambda: analytics.leaderboard(ws, everything)),
            ("leaderboard (one run)", lambda: analytics.leaderboard(ws, one_run)),
            ("leaderboard (date + model)", lambda: analytics.leaderboard(ws, lately)),
            (
                "everything the page draws (all)",
                lambda: analytics.dashboard_data(ws, everything),
            ),
            ("filter options", lambda: analytics.filter_options(ws)),
        ):
            seconds, cpu, result = timed(fn)
            frame = getattr(result, "board", result)
            size = f"{len(frame)} rows" if hasattr(frame, "__len__") else ""
            rows.append((name, seconds, cpu, size))
        page = None if args.no_page else render_page(ws)

        load = os.getloadavg()[0]
        print(f"load average {load:.1f} on {os.cpu_count()} CPUs\n")
        head = f"measure ({counts['cell']:,} cells, {counts['rating']:,} ratings)"
        print(f"| {head} | wall | CPU | result |")
        print("|---|---:|---:|---|")
        for name, seconds, cpu, size in rows:
            print(f"| {name} | {seconds * 1000:.0f} ms | {cpu * 1000:.0f} ms | {size} |")
        for name, seconds, cpu in page or []:
            print(f"| {name} | {seconds * 1000:.0f} ms | {cpu * 1000:.0f} ms | |")
        print(f"| peak memory (max RSS of this process) | {max_rss_mb():.0f} MB | | |")


if __name__ == "__main__":
    main()
