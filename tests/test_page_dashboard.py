"""The Dashboard page in AppTest: the empty state, then a seeded database."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyarrow as pa
from streamlit.testing.v1 import AppTest

from tests.dashboard_seed import seed_small, seed_versions

PAGE = str(Path(__file__).resolve().parent.parent / "app" / "views" / "dashboard.py")


def _page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def _charts(at: AppTest) -> list[dict]:  # type: ignore[type-arg]
    import json

    return [json.loads(e.proto.spec) for e in at.get("plotly_chart")]


def _markdown(at: AppTest) -> str:
    return "\n".join(str(m.value) for m in at.markdown)


def test_empty_workspace_says_how_to_get_data(empty_workspace) -> None:  # type: ignore[no-untyped-def]
    at = _page()
    assert len(at.info) == 1
    assert "Start a run on the **Runs** page" in at.info[0].value
    assert "**Rate** page" in at.info[0].value
    assert not at.get("plotly_chart") and not at.dataframe


def test_seeded_dashboard_shows_leaderboard_charts_and_monthly_cost(empty_workspace) -> None:  # type: ignore[no-untyped-def]
    seed_small(empty_workspace)
    at = _page()
    table = at.dataframe[0].value
    # Issue 15: one scheme at a time ("quality" first), not thumbs averaged with 1-5
    # scores: sim-smart has only a thumbs rating, so it has no quality and ranks last.
    assert at.selectbox(key="dashboard.scheme").value == "quality"
    assert table["label"].tolist() == [
        "summarize v2 · sim-fast", "summarize v1 · sim-fast", "summarize v2 · sim-smart",
    ]  # fmt: skip
    assert table.set_index("label").loc["summarize v2 · sim-fast", "latency_p95"] == 190.0
    titles = [c["layout"]["title"]["text"] for c in _charts(at)]
    assert len(titles) == 6
    assert any(t.startswith("Leaderboard") for t in titles)
    assert "Latency per variant (ms)" in titles and "Tokens per call" in titles
    # the best row's monthly cost at the default 1M calls
    assert "At 1M calls a month, summarize v2 · sim-fast costs $2,000." in _markdown(at)
    at.number_input(key="dashboard.monthly_calls").set_value(250_000).run()
    at.selectbox(key="dashboard.cost_variant").select("summarize v1 · sim-fast").run()
    assert not at.exception
    assert "At 250k calls a month, summarize v1 · sim-fast costs $250." in _markdown(at)


def test_filters_narrow_the_leaderboard(empty_workspace) -> None:  # type: ignore[no-untyped-def]
    s = seed_small(empty_workspace)
    at = _page()
    at.multiselect(key="dashboard.models").select("sim-smart").run()
    assert at.dataframe[0].value["label"].tolist() == ["summarize v2 · sim-smart"]
    at.multiselect(key="dashboard.models").unselect("sim-smart").run()
    at.selectbox(key="dashboard.scheme").select("quality").run()
    at.multiselect(key="dashboard.runs").select(s.run2).run()
    table = at.dataframe[0].value
    assert table["label"].tolist() == ["summarize v1 · sim-fast"]
    assert table["n_cells"].tolist() == [2]
    # no ratings in run 2: the page says how to get quality data
    assert any("rate cells on the **Rate** page" in w.value for w in at.warning)


def test_date_range_narrows_to_the_runs_of_those_days(empty_workspace) -> None:  # type: ignore[no-untyped-def]
    seed_small(empty_workspace)
    at = _page()
    at.date_input(key="dashboard.dates").set_value((date(2026, 11, 15), date(2026, 11, 30))).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["label"].tolist() == ["summarize v1 · sim-fast"]
    assert table["n_cells"].tolist() == [2]  # run 2 only (created 2026-11-20)


def test_filters_that_match_nothing_say_so(empty_workspace) -> None:  # type: ignore[no-untyped-def]
    seed_small(empty_workspace)
    at = _page()
    at.selectbox(key="dashboard.dataset").select("faq").run()
    at.multiselect(key="dashboard.models").select("sim-smart").run()
    assert not at.exception
    assert any("No finished cells match these filters" in i.value for i in at.info)
    assert not at.dataframe


def test_versions_chart_follows_the_chosen_prompt(empty_workspace) -> None:  # type: ignore[no-untyped-def]
    seed_versions(empty_workspace, versions=3, prompt="summarize")
    seed_versions(empty_workspace, versions=2, prompt="classify")
    at = _page()

    def versions_chart() -> dict:  # type: ignore[type-arg]
        return next(c for c in _charts(at) if "across versions" in c["layout"]["title"]["text"])

    # the prompt with the most versions comes first
    assert versions_chart()["layout"]["title"]["text"] == "summarize: quality across versions"
    assert list(versions_chart()["layout"]["xaxis"]["ticktext"]) == ["v1", "v2", "v3"]
    at.selectbox(key="dashboard.versions_prompt").select("classify").run()
    assert not at.exception
    assert versions_chart()["layout"]["title"]["text"] == "classify: quality across versions"
    assert list(versions_chart()["layout"]["xaxis"]["ticktext"]) == ["v1", "v2"]


def test_leaderboard_shows_a_dash_not_none_and_the_schemes_own_scale(empty_workspace) -> None:  # type: ignore[no-untyped-def]
    seed_small(empty_workspace)
    at = _page()
    frame = at.dataframe[0]
    config = json.loads(frame.proto.columns)
    # said on the scheme's own scale, not 0.67 unlabelled
    assert config["quality"]["label"] == "Mean quality (1–5)"
    table = frame.value
    # a mean 0..1 score of 0.6875 on a 1 to 5 scheme reads 3.75
    assert table.set_index("label").loc["summarize v2 · sim-fast", "quality"] == 3.75
    # what the reader sees in each cell: the Styler's display values
    shown = pa.ipc.open_stream(frame.proto.arrow_data.styler.display_values).read_all()
    order = list(frame.proto.column_order)
    texts = {
        str(v) for name in shown.column_names if name in order for v in shown[name].to_pylist()
    }
    assert "None" not in texts and "nan" not in texts and "0.000000" not in texts
    assert {"—", "0%", "190 ms"} <= texts
    assert "latency_p99" not in frame.proto.column_order  # the table fits the page
