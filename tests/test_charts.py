"""Charts are built from analytics DataFrames without Streamlit: assert traces and points."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from promptyard.reading import analytics, charts
from promptyard.reading.analytics import Filters
from tests.dashboard_seed import seed_small, seed_versions


@pytest.fixture
def board_and_samples(empty_workspace):  # type: ignore[no-untyped-def]
    seed_small(empty_workspace)
    board = analytics.leaderboard(empty_workspace, Filters(scheme="quality"))
    return empty_workspace, board, analytics.latency_samples(empty_workspace)


def test_leaderboard_bars_carry_intervals_and_ids(board_and_samples) -> None:  # type: ignore[no-untyped-def]
    _, board, _ = board_and_samples
    fig = charts.leaderboard_chart(board)
    (bar,) = fig.data
    # Only rated variants get a bar, best on top (plotly draws horizontal bars bottom-up).
    assert list(bar.y) == ["summarize v1 · sim-fast", "summarize v2 · sim-fast"]
    assert list(bar.x) == pytest.approx([2 / 3, 0.6875])
    assert list(bar.error_x.array) == pytest.approx([1 / 3, 0.09675], abs=1e-4)
    v2 = board[board["label"] == "summarize v2 · sim-fast"].iloc[0]
    assert list(bar.customdata[1]) == [v2.run_id, v2.variant_id, 8]  # run, variant, n
    assert "mean human score" in fig.layout.title.text


def test_quality_by_version_has_one_line_and_band_per_model(empty_workspace) -> None:  # type: ignore[no-untyped-def]
    seed_versions(empty_workspace, versions=3)
    df = analytics.quality_by_version(empty_workspace, "summarize")
    fig = charts.quality_by_version_chart(df)
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    bands = [t for t in fig.data if t.fill == "toself"]
    assert sorted(t.name for t in lines) == ["sim-fast", "sim-smart"]
    assert len(bands) == 2
    assert [list(t.x) for t in lines] == [[1, 2, 3], [1, 2, 3]]
    assert list(fig.layout.xaxis.ticktext) == ["v1", "v2", "v3"]
    # the band runs along the upper bounds and back along the lower ones
    fast = df[df["model"] == "sim-fast"]
    assert list(bands[0].y[:3]) == pytest.approx(fast["quality_high"].tolist())


def test_latency_box_marks_p50_and_p95_from_sql(board_and_samples) -> None:  # type: ignore[no-untyped-def]
    _, board, samples = board_and_samples
    fig = charts.latency_chart(samples, board)
    boxes = [t for t in fig.data if t.type == "box"]
    assert len(boxes) == 3
    p50 = next(t for t in fig.data if t.name == "p50")
    p95 = next(t for t in fig.data if t.name == "p95")
    marks = dict(zip(p50.y, p50.x, strict=True))
    assert marks["summarize v2 · sim-fast"] == 100.0
    assert dict(zip(p95.y, p95.x, strict=True))["summarize v1 · sim-fast"] == 600.0
    v2_box = next(t for t in boxes if t.name == "summarize v2 · sim-fast")
    assert sorted(v2_box.x) == [10.0 * i for i in range(1, 21)]
    violin = charts.latency_chart(samples, board, kind="violin")
    assert sum(t.type == "violin" for t in violin.data) == 3


def test_cost_chart_projects_monthly_cost(board_and_samples) -> None:  # type: ignore[no-untyped-def]
    _, board, _ = board_and_samples
    fig = charts.cost_chart(board, calls_per_month=1_000_000)
    (bar,) = fig.data
    assert list(bar.y) == [
        "summarize v1 · sim-fast", "summarize v2 · sim-fast", "summarize v2 · sim-smart",
    ]  # fmt: skip
    assert list(bar.x) == pytest.approx([1.0, 2.0, 10.0])
    assert [c[2] for c in bar.customdata] == pytest.approx([1000.0, 2000.0, 10000.0])


def test_quality_cost_scatter_draws_the_frontier() -> None:
    board = pd.DataFrame(
        {
            "label": ["a v1 · m1", "a v2 · m1", "a v1 · m2", "a v2 · m2"],
            "model": ["m1", "m1", "m2", "m2"],
            "quality": [0.5, 0.8, 0.6, 0.7],
            "cost_per_call": [0.001, 0.002, 0.003, 0.004],
            "run_id": [1, 1, 1, 1],
            "variant_id": [1, 2, 3, 4],
            "quality_metric": ["human"] * 4,
        }
    )
    fig = charts.quality_cost_chart(board)
    frontier = next(t for t in fig.data if t.name == "Pareto frontier")
    # a v1 · m2 and a v2 · m2 cost more than a v2 · m1 and score lower: off the frontier.
    assert list(frontier.text) == ["a v1 · m1", "a v2 · m1"]
    assert list(frontier.x) == [0.001, 0.002]
    m2 = next(t for t in fig.data if t.name == "m2")
    assert list(m2.marker.symbol) == ["circle", "circle"]


def test_tokens_chart_groups_input_and_output(board_and_samples) -> None:  # type: ignore[no-untyped-def]
    _, board, _ = board_and_samples
    fig = charts.tokens_chart(board)
    outputs, inputs = fig.data
    assert (inputs.name, outputs.name) == ("input", "output")
    # labels run top to bottom: v1 · sim-fast, v2 · sim-fast, v2 · sim-smart
    assert list(inputs.x) == [40.0, 30.0, 10.0]
    assert list(outputs.x) == [100.0, 50.0, 20.0]
    assert list(inputs.y)[-1] == "summarize v1 · sim-fast"
    assert fig.layout.barmode == "group"


def test_empty_frames_give_figures_that_say_what_to_do(empty_workspace) -> None:  # type: ignore[no-untyped-def]
    board = analytics.leaderboard(empty_workspace)
    samples = analytics.latency_samples(empty_workspace)
    for fig in (
        charts.leaderboard_chart(board),
        charts.latency_chart(samples, board),
        charts.cost_chart(board),
        charts.quality_cost_chart(board),
        charts.tokens_chart(board),
        charts.quality_by_version_chart(board),
    ):
        assert not fig.data
        assert fig.layout.annotations[0].text.endswith(".")


def test_one_colour_per_model_across_charts(board_and_samples) -> None:  # type: ignore[no-untyped-def]
    _, board, samples = board_and_samples
    colors = charts.model_colors(board["model"])
    cost = charts.cost_chart(board).data[0]
    smart = list(cost.y).index("summarize v2 · sim-smart")
    assert cost.marker.color[smart] == colors["sim-smart"]
    box = next(t for t in charts.latency_chart(samples, board).data if "sim-smart" in t.name)
    assert box.marker.color == colors["sim-smart"]


def test_standalone_html_inlines_plotly_js(board_and_samples) -> None:  # type: ignore[no-untyped-def]
    _, board, _ = board_and_samples
    html = charts.figure_html(charts.tokens_chart(board))
    assert not re.findall(r"<script[^>]*\bsrc=", html)  # nothing fetched from a CDN
    assert len(html) > 1_000_000  # plotly.js itself is inline
    assert html.count("Plotly.newPlot") == 1
    if not charts.png_available():
        assert charts.figure_png(charts.tokens_chart(board)) is None
