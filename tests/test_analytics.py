"""The dashboard's aggregates against numbers worked out by hand on a small database.

The seed (tests/dashboard_seed.py), by variant key:
- summarize v1 · sim-fast: run 1 has 4 ok cells at 100/200/300/400 ms and 1 error;
  run 2 adds 2 ok cells at 500/600 ms. $0.001 a call, 10 tokens in, 20 out.
- summarize v2 · sim-fast: 20 ok cells at 10..200 ms ($0.002; one of unknown price) and one
  cached cell at 1 ms; 30 in, 50 out.
- summarize v2 · sim-smart: 2 ok cells at 1000 and 3000 ms, $0.01 each; 40 in, 100 out.
- a playground run, which the dashboard leaves out.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pandas as pd
import pytest
from sqlmodel import Session, select

from promptyard import stats
from promptyard.reading import analytics
from promptyard.reading.analytics import Filters
from promptyard.storage import db
from promptyard.storage.tables import Cell, Rating, Run
from tests.dashboard_seed import seed_small


@pytest.fixture
def seeded(empty_workspace):  # type: ignore[no-untyped-def]
    return empty_workspace, seed_small(empty_workspace)


def _row(df: pd.DataFrame, version: int, model: str) -> pd.Series:
    rows = df[(df["prompt_version"] == version) & (df["model"] == model)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_latency_percentiles_are_nearest_rank_and_pool_runs(seeded) -> None:  # type: ignore[no-untyped-def]
    ws, _ = seeded
    board = analytics.leaderboard(ws)
    v1 = _row(board, 1, "sim-fast")
    # 100..600 ms pooled over two runs: ranks ceil(.5*6)=3, ceil(.95*6)=6, ceil(.99*6)=6.
    assert (v1.latency_p50, v1.latency_p95, v1.latency_p99) == (300.0, 600.0, 600.0)
    assert v1.n_latency == 6 and v1.n_runs == 2
    v2 = _row(board, 2, "sim-fast")
    # 10..200 ms (the 1 ms cached cell left out): ranks 10, 19, 20.
    assert (v2.latency_p50, v2.latency_p95, v2.latency_p99) == (100.0, 190.0, 200.0)
    assert v2.latency_mean == pytest.approx(105.0)
    smart = _row(board, 2, "sim-smart")
    assert (smart.latency_p50, smart.latency_p95) == (1000.0, 3000.0)


def test_filters_by_run_dataset_date_and_model(seeded) -> None:  # type: ignore[no-untyped-def]
    ws, s = seeded
    run1 = analytics.leaderboard(ws, Filters(run_ids=(s.run1,)))
    v1 = _row(run1, 1, "sim-fast")
    # 100, 200, 300, 400: ranks 2 and 4.
    assert (v1.latency_p50, v1.latency_p95, v1.n_cells, v1.n_errors) == (200.0, 400.0, 5, 1)
    faq = analytics.leaderboard(ws, Filters(dataset="faq"))
    assert faq["label"].tolist() == ["summarize v1 · sim-fast"]
    assert faq.iloc[0].run_id == s.run2
    late = analytics.leaderboard(ws, Filters(since=date(2026, 11, 10)))
    assert late["n_cells"].tolist() == [2]
    early = analytics.leaderboard(ws, Filters(until=date(2026, 11, 1)))
    assert sorted(early["n_cells"].tolist()) == [2, 5, 21]
    smart = analytics.leaderboard(ws, Filters(models=("sim-smart",)))
    assert smart["model"].tolist() == ["sim-smart"]
    assert analytics.leaderboard(ws, Filters(prompt="nope")).empty


def test_playground_runs_are_left_out_unless_asked_for(seeded) -> None:  # type: ignore[no-untyped-def]
    ws, s = seeded
    board = analytics.leaderboard(ws)
    assert "summarize draft · sim-fast" not in board["label"].tolist()
    play = analytics.leaderboard(ws, Filters(kinds=("playground",)))
    assert play["label"].tolist() == ["summarize draft · sim-fast"]
    assert play.iloc[0].run_id == s.playground


def test_errors_tokens_and_cost(seeded) -> None:  # type: ignore[no-untyped-def]
    ws, _ = seeded
    board = analytics.leaderboard(ws)
    v1 = _row(board, 1, "sim-fast")
    assert v1.n_cells == 7 and v1.n_errors == 1
    assert v1.error_rate == pytest.approx(1 / 7)
    # The error cell has no tokens; means are over the 6 ok cells.
    assert (v1.mean_prompt_tokens, v1.mean_completion_tokens) == (10.0, 20.0)
    v2 = _row(board, 2, "sim-fast")
    # One cell of unknown price is left out of the mean, not counted as free.
    assert v2.cost_per_call == pytest.approx(0.002)
    assert v2.cost_per_1k == pytest.approx(2.0)
    assert v2.n_cost_known == 20
    assert v2.total_cost == pytest.approx(0.04)
    assert _row(board, 2, "sim-smart").cost_per_call == pytest.approx(0.01)


def test_human_score_mean_and_t_interval(seeded) -> None:  # type: ignore[no-untyped-def]
    ws, _ = seeded
    board = analytics.leaderboard(ws, Filters(scheme="quality"))
    v2 = _row(board, 2, "sim-fast")
    # Six cells at 0.75, two at 0.5: mean 0.6875, sd = sqrt(0.09375 / 7),
    # half width = t(0.975, 7) * sd / sqrt(8) = 2.3646 * 0.040916 = 0.09675.
    assert v2.mean_score == pytest.approx(0.6875)
    assert v2.score_ci_low == pytest.approx(0.6875 - 0.09675, abs=1e-4)
    assert v2.score_ci_high == pytest.approx(0.6875 + 0.09675, abs=1e-4)
    assert (v2.n_rated, v2.n_ratings) == (8, 8)
    v1 = _row(board, 1, "sim-fast")
    # Current ratings only (the superseded 0.0 is gone); two raters on one cell are
    # averaged first: cells 1.0, 0.5, 0.5 -> mean 2/3; the wide interval is clipped to 0..1.
    assert v1.mean_score == pytest.approx(2 / 3)
    assert (v1.n_rated, v1.n_ratings) == (3, 4)
    assert (v1.score_ci_low, v1.score_ci_high) == (0.0, 1.0)
    # No "quality" ratings for sim-smart; its "thumbs" rating counts without the filter.
    assert math.isnan(_row(board, 2, "sim-smart").mean_score)
    pooled = analytics.leaderboard(ws)
    assert _row(pooled, 2, "sim-smart").mean_score == 1.0
    assert board["quality_metric"].iloc[0] == "human"
    assert board["label"].tolist()[:2] == ["summarize v2 · sim-fast", "summarize v1 · sim-fast"]


def test_win_rates_count_ties_as_half(seeded) -> None:  # type: ignore[no-untyped-def]
    ws, _ = seeded
    wins = analytics.win_rates(ws)
    # v2: won 2 and tied 1 against sim-smart, won 1 and "both bad" 1 against v1.
    v2 = _row(wins, 2, "sim-fast")
    assert (v2.n_votes, v2.wins, v2.ties, v2.losses) == (5, 3, 2, 0)
    assert v2.win_rate == pytest.approx(4 / 5)
    assert _row(wins, 2, "sim-smart").win_rate == pytest.approx(0.5 / 3)
    assert _row(wins, 1, "sim-fast").win_rate == pytest.approx(0.5 / 2)
    # 4 points of 5: Wilson 95% interval
    assert (v2.win_ci_low, v2.win_ci_high) == pytest.approx((0.3755, 0.9638), abs=1e-4)
    # Bradley-Terry (Elo-like, centred on 1000): v2 beat both others
    bt = wins.set_index("model")
    v1_bt = _row(wins, 1, "sim-fast").bt_score
    assert v2.bt_score > v1_bt and v2.bt_score > bt.loc["sim-smart", "bt_score"]
    assert wins["bt_score"].mean() == pytest.approx(1000.0)
    board = analytics.leaderboard(ws, quality="win_rate")
    assert board["label"].iloc[0] == "summarize v2 · sim-fast"
    assert board["quality_low"].iloc[0] == pytest.approx(0.3755, abs=1e-4)


def test_evaluator_pass_rate_with_wilson_interval(seeded) -> None:  # type: ignore[no-untyped-def]
    ws, _ = seeded
    board = analytics.leaderboard(ws, quality="evaluator")
    v1 = _row(board, 1, "sim-fast")
    # 2 passed of 3 with a verdict (a score without one is left out).
    assert v1.pass_rate == pytest.approx(2 / 3) and v1.n_scores == 3
    assert v1.pass_ci_low == pytest.approx(0.2077, abs=1e-4)
    assert v1.pass_ci_high == pytest.approx(0.9385, abs=1e-4)
    assert v1.quality == v1.pass_rate and v1.quality_metric == "evaluator"
    assert board["label"].iloc[0] == "summarize v2 · sim-fast"  # 2 of 2
    assert math.isnan(_row(board, 2, "sim-smart").pass_rate)


def test_summaries_follow_new_ratings_resumed_runs_and_running_ones(seeded) -> None:  # type: ignore[no-untyped-def]
    ws, s = seeded
    quality = Filters(scheme="quality")
    before = _row(analytics.leaderboard(ws, quality), 1, "sim-fast")  # summaries stored
    assert (before.mean_score, before.n_rated, before.latency_p50) == (
        pytest.approx(2 / 3),
        3,
        300.0,
    )

    def change(sess: Session) -> None:
        cell = sess.exec(select(Cell).where(Cell.variant_id == s.v1, Cell.row_index == 3)).one()
        sess.add(Rating(cell_id=cell.id, run_id=s.run1, scheme="quality", rater="carol",
                        value_json="0", score=0.0))  # fmt: skip
        # Run 2 is resumed and finishes again with a slow new cell.
        sess.add(Cell(run_id=s.run2, variant_id=s.v4, row_id="r9", row_index=9, status="ok",
                      latency_ms=10_000.0, cost_usd=0.001, prompt_tokens=10,
                      completion_tokens=20))  # fmt: skip
        run2 = sess.get(Run, s.run2)
        assert run2 is not None
        run2.finished_at = datetime(2026, 11, 21, tzinfo=UTC)
        sess.add(run2)

    db.write(ws, change)
    after = _row(analytics.leaderboard(ws, quality), 1, "sim-fast")
    # Cells 1.0, 0.5, 0.5 and now 0.0; latencies 100..600 and 10,000: ranks 4 and 7.
    assert (after.mean_score, after.n_rated) == (pytest.approx(0.5), 4)
    assert (after.latency_p50, after.latency_p95, after.n_cells) == (400.0, 10_000.0, 8)

    def start_again(sess: Session) -> None:
        run2 = sess.get(Run, s.run2)
        assert run2 is not None
        run2.status = "running"
        sess.add(run2)
        sess.add(Cell(run_id=s.run2, variant_id=s.v4, row_id="r10", row_index=10,
                      status="error", error_kind="timeout"))  # fmt: skip

    db.write(ws, start_again)
    running = _row(analytics.leaderboard(ws, quality), 1, "sim-fast")
    assert (running.n_cells, running.n_errors) == (9, 2)  # counted live while it runs


def test_t_critical_values() -> None:
    assert stats.t_critical(1) == pytest.approx(12.706, abs=1e-3)
    assert stats.t_critical(30) == pytest.approx(2.042, abs=1e-3)
    assert stats.t_critical(60) == pytest.approx(2.0003, abs=1e-3)
    assert stats.t_critical(10_000) == pytest.approx(1.960, abs=1e-3)
    assert math.isnan(stats.mean_interval(1, 0.5, 0.25)[1])


def test_pareto_frontier_marks_what_nothing_beats() -> None:
    df = pd.DataFrame(
        {
            "label": ["A", "B", "C", "D", "E", "F"],
            "quality": [0.9, 0.8, 0.5, 0.5, 0.9, math.nan],
            "cost_per_call": [0.01, 0.02, 0.001, 0.005, 0.01, 0.1],
        }
    )
    out = analytics.pareto_frontier(df)
    # B is beaten by A (better and cheaper), D by C (same quality, cheaper); A and E tie.
    assert out.set_index("label")["on_frontier"].to_dict() == {
        "A": True, "B": False, "C": True, "D": False, "E": True, "F": False,
    }  # fmt: skip


def test_latency_samples_are_capped_per_variant(seeded) -> None:  # type: ignore[no-untyped-def]
    ws, _ = seeded
    all_of_them = analytics.latency_samples(ws)
    assert len(all_of_them) == 6 + 20 + 2
    capped = analytics.latency_samples(ws, cap=5)
    per_key = capped.groupby("label").size().to_dict()
    assert per_key["summarize v2 · sim-fast"] <= 5
    assert per_key["summarize v2 · sim-smart"] == 2
    assert set(capped["latency_ms"]) <= set(all_of_them["latency_ms"])


def test_quality_by_version_and_monthly_cost(seeded) -> None:  # type: ignore[no-untyped-def]
    ws, _ = seeded
    by_version = analytics.quality_by_version(ws, "summarize", Filters(scheme="quality"))
    fast = by_version[by_version["model"] == "sim-fast"]
    assert fast["prompt_version"].tolist() == [1, 2]
    assert fast["quality"].tolist() == pytest.approx([2 / 3, 0.6875])
    board = analytics.project_monthly_cost(analytics.leaderboard(ws), 1_000_000)
    v2 = _row(board, 2, "sim-fast")
    assert v2.monthly_cost == pytest.approx(2000.0)
    assert analytics.monthly_cost_sentence(v2, 1_000_000) == (
        "At 1M calls a month, summarize v2 · sim-fast costs $2,000."
    )


def test_empty_database_gives_empty_frames(empty_workspace) -> None:  # type: ignore[no-untyped-def]
    board = analytics.leaderboard(empty_workspace)
    assert board.empty and list(board.columns) == analytics.LEADERBOARD_COLUMNS
    assert analytics.latency_samples(empty_workspace).empty
    options = analytics.filter_options(empty_workspace)
    assert options.empty and options.prompts == [] and options.first_date is None


def test_filter_options_list_what_exists(seeded) -> None:  # type: ignore[no-untyped-def]
    ws, s = seeded
    options = analytics.filter_options(ws)
    assert options.prompts == ["summarize"]
    assert options.datasets == ["faq", "tickets"]
    assert options.models == ["sim-fast", "sim-smart"]
    assert options.schemes == ["quality", "thumbs"]
    assert options.runs["id"].tolist() == [s.run2, s.run1]
    assert (options.first_date, options.last_date) == (date(2026, 11, 1), date(2026, 11, 20))


@pytest.mark.postgres
def test_postgres_gives_the_same_numbers_as_sqlite(seeded, postgres_url: str) -> None:  # type: ignore[no-untyped-def]
    ws, _ = seeded
    seed_small(postgres_url)
    for filters in (Filters(), Filters(scheme="quality", run_ids=(1,)), Filters(dataset="faq")):
        lite = analytics.leaderboard(ws, filters)
        pg = analytics.leaderboard(postgres_url, filters)
        numeric = [c for c in analytics.LEADERBOARD_COLUMNS if c not in ("label", "prompt_name",
                   "model", "quality_metric")]  # fmt: skip
        assert pg["label"].tolist() == lite["label"].tolist()
        pd.testing.assert_frame_equal(
            pg[numeric].astype(float), lite[numeric].astype(float), check_exact=False
        )
    samples = analytics.latency_samples(postgres_url, cap=5)
    assert samples.groupby("label").size().max() <= 5
    assert analytics.filter_options(postgres_url).datasets == ["faq", "tickets"]
