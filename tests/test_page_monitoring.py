"""The Monitoring page in AppTest: the empty state, then seeded traffic with a new version."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.monitoring_seed import HOUR_NS, S, hour_start, seed

PAGE = str(Path(__file__).resolve().parent.parent / "app" / "views" / "monitoring.py")
MIN_NS = 60 * 1_000_000_000


def _page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def _ys(trace: dict) -> list[float]:  # type: ignore[type-arg]
    """A trace's y values (plotly sends arrays as base64 typed buffers)."""
    import base64

    import numpy as np

    y = trace["y"]
    if isinstance(y, dict):
        return np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"]).tolist()
    return list(y)


def _charts(at: AppTest) -> dict[str, dict]:  # type: ignore[type-arg]
    specs = [json.loads(e.proto.spec) for e in at.get("plotly_chart")]
    return {s["layout"]["title"]["text"]: s for s in specs}


def _traffic(ws) -> None:  # type: ignore[no-untyped-def]
    """Three hours ago v1 (10 calls, 2 failed); two hours ago v2 arrives (10 calls)."""
    h = hour_start() - 3 * HOUR_NS
    seed(
        ws,
        [S(h + i * MIN_NS, status="error" if i < 2 else "ok", user_id="alice") for i in range(10)]
        + [
            S(h + HOUR_NS + i * MIN_NS, prompt_version=2, user_id="<b>bob</b>", cost_usd=0.01)
            for i in range(10)
        ],
    )


def test_empty_workspace_says_how_to_send_traces(empty_workspace) -> None:  # type: ignore[no-untyped-def]
    at = _page()
    assert len(at.info) == 1
    assert "`promptyard collect`" in at.info[0].value
    assert "docs/traces.md" in at.info[0].value
    assert not at.get("plotly_chart") and not at.dataframe


def test_seeded_traffic_draws_charts_markers_and_top_consumers(empty_workspace) -> None:  # type: ignore[no-untyped-def]
    _traffic(empty_workspace)
    at = _page()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Calls"] == "20" and metrics["Error rate"] == "10.0%"
    assert metrics["Cost"] == "$0.1100"  # 10 × $0.001 (failed calls are billed) + 10 × $0.01
    charts = _charts(at)
    assert {"Calls per hour", "Error rate", "Tokens (in + out) per hour"} <= set(charts)
    errors = charts["Error rate"]
    assert _ys(errors["data"][0]) == [0.2, 0.0]
    # v2's first appearance is a dotted line with its name, on every chart
    shapes = [s for s in errors["layout"]["shapes"] if s["line"]["dash"] == "dot"]
    labels = [a["text"] for a in errors["layout"]["annotations"]]
    assert labels == ["summarize v2"] and len(shapes) == 1
    consumers = at.dataframe[0].value
    users = consumers[consumers["kind"] == "user"]
    assert users["consumer"].tolist() == ["<b>bob</b>", "alice"]  # as typed, in a data grid


def test_segment_by_prompt_version_draws_one_line_each_with_inert_names(empty_workspace) -> None:  # type: ignore[no-untyped-def]
    _traffic(empty_workspace)
    at = _page()
    at.selectbox(key="monitoring.segment").select("prompt_version").run()
    assert not at.exception
    names = [t["name"] for t in _charts(at)["Calls per hour"]["data"]]
    assert names == ["summarize v1", "summarize v2"]
    at.selectbox(key="monitoring.segment").select("user").run()
    names = [t["name"] for t in _charts(at)["Calls per hour"]["data"]]
    assert "&lt;b&gt;bob&lt;/b&gt;" in names and "<b>bob</b>" not in names
    at.radio(key="monitoring.granularity").set_value("day").run()
    assert not at.exception
    assert "Calls per day" in _charts(at)


def test_a_range_without_traffic_says_where_the_latest_call_is(empty_workspace) -> None:  # type: ignore[no-untyped-def]
    seed(empty_workspace, [S(hour_start() - 40 * 24 * HOUR_NS)])
    at = _page()
    assert "No LLM calls in this range" in at.info[0].value
    at.selectbox(key="monitoring.range").select("All traffic").run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Calls"] == "1"


def test_segment_by_a_picked_span_attribute(empty_workspace) -> None:  # type: ignore[no-untyped-def]
    h = hour_start() - HOUR_NS
    seed(
        empty_workspace,
        [S(h + i, attributes={"geo.country": ["FR", "DE"][i % 2]}) for i in range(4)]
        + [S(h + 9, attributes={"geo.country": "FR"}, status="error")],
    )
    at = _page()
    at.selectbox(key="monitoring.segment").select("attribute").run()
    assert not at.exception
    assert at.selectbox(key="monitoring.attribute").value == "geo.country"
    errors = _charts(at)["Error rate"]["data"]
    assert {t["name"]: _ys(t) for t in errors} == {"FR": [1 / 3], "DE": [0.0]}
