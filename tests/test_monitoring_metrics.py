"""Monitoring metrics over seeded spans: the numbers a user would work out by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd
import pytest
from sqlalchemy import text

from promptyard.monitoring import (
    NO_SEGMENT,
    ChangeKind,
    Granularity,
    MetricsError,
    MetricsQuery,
    Segment,
    change_markers,
    feedback_series,
    metric_series,
    pass_rate_series,
    span_attribute_keys,
    time_bounds,
    top_consumers,
)
from promptyard.storage import get_engine
from tests.monitoring_seed import HOUR_NS, S, feedback, seed

T0 = int(datetime(2026, 3, 1, 10, tzinfo=UTC).timestamp()) * 1_000_000_000
MIN_NS = 60 * 1_000_000_000


def _q(**kw: object) -> MetricsQuery:
    base: dict[str, object] = {"since_ns": T0, "until_ns": T0 + 3 * HOUR_NS}
    base.update(kw)
    return MetricsQuery(**base)  # type: ignore[arg-type]


def test_volume_errors_percentiles_tokens_and_cost_per_hour(workspace) -> None:  # type: ignore[no-untyped-def]
    # Hour 10: ten calls of 10..100 ms, one of them (the 100 ms) failed; hour 11: two calls.
    spans = [S(T0 + i * MIN_NS, duration_ms=10.0 * (i + 1), ttft_ms=float(i + 1)) for i in range(9)]
    spans.append(S(T0 + 9 * MIN_NS, duration_ms=100.0, status="error", cost_usd=None))
    spans += [S(T0 + HOUR_NS, duration_ms=500.0), S(T0 + HOUR_NS + MIN_NS, duration_ms=700.0)]
    spans.append(S(T0 - MIN_NS, duration_ms=9999.0))  # before the range: not counted
    spans.append(S(T0 + 5 * MIN_NS, duration_ms=9999.0, is_llm=False))  # not an LLM span
    seed(workspace, spans)
    df = metric_series(workspace, _q())
    assert df["time"].tolist() == [
        pd.Timestamp("2026-03-01 10:00", tz="UTC"),
        pd.Timestamp("2026-03-01 11:00", tz="UTC"),
    ]
    h10, h11 = df.iloc[0], df.iloc[1]
    assert (h10["calls"], h10["errors"], h10["error_rate"]) == (10, 1, 0.1)
    # the failed call is out of latency: nine successes 10..90 ms, nearest rank
    assert (h10["latency_p50"], h10["latency_p95"], h10["latency_p99"]) == (50.0, 90.0, 90.0)
    assert (h10["ttft_p50"], h10["ttft_p95"]) == (5.0, 9.0)
    assert (h10["input_tokens"], h10["output_tokens"]) == (1000, 200)
    # nine known prices of $0.001; the failed call's price is unknown, not $0
    assert h10["cost_usd"] == pytest.approx(0.009)
    assert h10["cost_unknown"] == 1
    assert (h11["calls"], h11["latency_p50"], h11["latency_p99"]) == (2, 500.0, 700.0)
    assert math.isnan(h11["ttft_p50"])
    # one bucket per day adds both hours up
    day = metric_series(workspace, _q(granularity=Granularity.DAY))
    assert day["calls"].tolist() == [12]
    assert day["time"].iloc[0] == pd.Timestamp("2026-03-01", tz="UTC")
    assert day["latency_p50"].iloc[0] == 60.0  # 11 successes: 10..90, 500, 700 → 6th


def test_a_bucket_of_unknown_prices_has_no_cost_not_zero(workspace) -> None:  # type: ignore[no-untyped-def]
    seed(workspace, [S(T0, cost_usd=None), S(T0 + MIN_NS, cost_usd=None)])
    row = metric_series(workspace, _q()).iloc[0]
    assert math.isnan(row["cost_usd"]) and row["cost_unknown"] == 2


def test_segments_by_prompt_version_label_models_user_session_service(workspace) -> None:  # type: ignore[no-untyped-def]
    seed(
        workspace,
        [
            S(T0, prompt_version=1, user_id="alice", service_name="bot", session_id="a"),
            S(T0 + 1, prompt_version=2, user_id="bob", response_model="gpt-4o-2024-11-20"),
            S(T0 + 2, prompt_version=2, user_id=None, prompt_label="staging"),
            S(T0 + 3, prompt_name=None, prompt_version=None, request_model="claude"),
        ],
    )

    def calls(segment: Segment) -> dict[str, int]:
        df = metric_series(workspace, _q(segment=segment))
        return dict(zip(df["segment"], df["calls"], strict=True))

    assert calls(Segment.PROMPT_VERSION) == {
        "summarize v1": 1, "summarize v2": 2, NO_SEGMENT: 1,
    }  # fmt: skip
    assert calls(Segment.PROMPT_LABEL) == {
        "summarize@production": 2, "summarize@staging": 1, NO_SEGMENT: 1,
    }  # fmt: skip
    assert calls(Segment.USER) == {"alice": 2, "bob": 1, NO_SEGMENT: 1}
    assert calls(Segment.RESPONSE_MODEL) == {"gpt-4o-2024-08-06": 3, "gpt-4o-2024-11-20": 1}
    assert calls(Segment.REQUEST_MODEL) == {"gpt-4o": 3, "claude": 1}
    assert calls(Segment.SERVICE) == {"bot": 1, "support-bot": 3}
    assert calls(Segment.SESSION) == {"a": 1, "s1": 3}
    assert calls(Segment.NONE) == {"all": 4}


def test_segment_by_a_span_attribute(workspace) -> None:  # type: ignore[no-untyped-def]
    seed(
        workspace,
        [
            S(T0, attributes={"geo.country": "FR"}),
            S(T0 + 1, attributes={"geo.country": "FR"}, status="error"),
            S(T0 + 2, attributes={"geo.country": "DE"}),
            S(T0 + 3),
        ],
    )
    df = metric_series(workspace, _q(segment=Segment.ATTRIBUTE, attribute="geo.country"))
    rates = dict(zip(df["segment"], df["error_rate"], strict=True))
    assert rates == {"FR": 0.5, "DE": 0.0, NO_SEGMENT: 0.0}
    assert span_attribute_keys(workspace) == ["geo.country"]
    with pytest.raises(MetricsError, match="attribute"):
        _q(segment=Segment.ATTRIBUTE, attribute='x"); DROP TABLE span; --')
    with pytest.raises(MetricsError, match="pick the span attribute"):
        _q(segment=Segment.ATTRIBUTE)
    with pytest.raises(MetricsError, match="not after the start"):
        MetricsQuery(since_ns=T0, until_ns=T0)


def test_change_markers_are_first_appearances_in_traffic(workspace) -> None:  # type: ignore[no-untyped-def]
    seed(
        workspace,
        [
            S(T0 - HOUR_NS, prompt_version=1),  # v1 and the first model: before the range
            S(T0 + 10 * MIN_NS, prompt_version=2),
            S(T0 + 20 * MIN_NS, prompt_version=2),
            S(T0 + 30 * MIN_NS, prompt_version=1, response_model="gpt-4o-2024-11-20"),
            S(T0 + 40 * MIN_NS, prompt_version=3, is_llm=False),  # not traffic of a model
        ],
    )
    markers = change_markers(workspace, T0, T0 + HOUR_NS)
    assert [(m.kind, m.label, m.at_ns) for m in markers] == [
        (ChangeKind.PROMPT_VERSION, "summarize v2", T0 + 10 * MIN_NS),
        (ChangeKind.RESPONSE_MODEL, "gpt-4o-2024-11-20", T0 + 30 * MIN_NS),
    ]
    assert markers[0].at == datetime(2026, 3, 1, 10, 10, tzinfo=UTC)
    wide = change_markers(workspace, T0 - 2 * HOUR_NS, T0 + HOUR_NS)
    # where traffic began (v1, the first model) is no change
    assert {m.label for m in wide} == {"summarize v2", "gpt-4o-2024-11-20"}
    # a second prompt's own first version is not a change either, its second is
    seed(workspace, [S(T0 + 50 * MIN_NS, prompt_name="classify", prompt_version=4)])
    seed(workspace, [S(T0 + 55 * MIN_NS, prompt_name="classify", prompt_version=5)])
    labels = [m.label for m in change_markers(workspace, T0, T0 + HOUR_NS)]
    assert "classify v5" in labels and "classify v4" not in labels


def test_top_consumers_rank_users_and_services_by_cost_then_tokens(workspace) -> None:  # type: ignore[no-untyped-def]
    seed(
        workspace,
        [
            S(T0, user_id="alice", cost_usd=0.01, service_name="bot"),
            S(T0 + 1, user_id="bob", cost_usd=0.03, service_name="bot"),
            S(T0 + 2, user_id="bob", cost_usd=None, input_tokens=5000, service_name="batch"),
            S(T0 + 3, user_id="carol", cost_usd=None, input_tokens=900, service_name="batch"),
        ],
    )
    df = top_consumers(workspace, T0, T0 + HOUR_NS)
    users = df[df["kind"] == "user"]
    assert users["consumer"].tolist() == ["bob", "alice", "carol"]
    bob = users.iloc[0]
    assert bob["cost_usd"] == pytest.approx(0.03) and bob["cost_unknown"] == 1
    assert bob["tokens"] == 100 + 5000 + 20 * 2
    assert bob["share_of_cost"] == pytest.approx(0.75)
    assert math.isnan(users.iloc[2]["cost_usd"])  # carol's price is unknown, not $0
    services = df[df["kind"] == "service"]
    assert services["consumer"].tolist() == ["bot", "batch"]


def test_feedback_mean_per_scheme_lands_on_the_traces_llm_span(workspace) -> None:  # type: ignore[no-untyped-def]
    seed(
        workspace,
        [
            S(T0, trace_id="a" * 32, prompt_version=1),
            S(T0 + HOUR_NS, trace_id="b" * 32, prompt_version=2),
            S(T0 + HOUR_NS + 1, trace_id="c" * 32, prompt_version=2),
        ],
    )
    feedback(workspace, "a" * 32, 1.0)
    feedback(workspace, "b" * 32, 0.0)
    feedback(workspace, "c" * 32, 1.0)
    feedback(workspace, "c" * 32, 4.0, name="stars")
    df = feedback_series(workspace, _q(segment=Segment.PROMPT_VERSION))
    got = {(r.segment, r.name): (r.mean, r.count) for r in df.itertuples()}
    assert got == {
        ("summarize v1", "thumbs"): (1.0, 1),
        ("summarize v2", "thumbs"): (0.5, 2),
        ("summarize v2", "stars"): (4.0, 1),
    }


def test_feedback_naming_a_span_lands_on_that_span(workspace) -> None:  # type: ignore[no-untyped-def]
    seed(
        workspace,
        [
            S(T0, trace_id="d" * 32, span_id="1" * 16, prompt_version=1),
            S(T0 + HOUR_NS, trace_id="d" * 32, span_id="2" * 16, prompt_version=2),
        ],
    )
    with get_engine(workspace).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO trace_feedback (trace_id, span_id, name, value, source, created_at)"
                " VALUES (:t, :s, 'thumbs', 0.0, 'end_user', '2026-03-01')"
            ),
            {"t": "d" * 32, "s": "2" * 16},
        )
    df = feedback_series(workspace, _q(segment=Segment.PROMPT_VERSION))
    assert df["segment"].tolist() == ["summarize v2"]
    assert df["time"].tolist() == [pd.Timestamp("2026-03-01 11:00", tz="UTC")]


def test_pass_rates_come_from_the_online_scores(workspace) -> None:  # type: ignore[no-untyped-def]
    ids = seed(workspace, [S(T0), S(T0 + 1), S(T0 + 2, prompt_version=2)])
    assert pass_rate_series(workspace, _q()).empty  # nothing scored yet
    with get_engine(workspace).begin() as conn:
        for span_row_id, passed in zip(ids, [1, 0, 1], strict=True):
            conn.execute(
                text(
                    "INSERT INTO span_score (span_row_id, trace_id, span_id, suite, evaluator,"
                    " passed, created_at) VALUES (:s, 't', 's', 'support', 'contains', :p,"
                    " '2026-03-01 10:00:00')"
                ),
                {"s": span_row_id, "p": passed},
            )
    df = pass_rate_series(workspace, _q(segment=Segment.PROMPT_VERSION))
    got = {r.segment: (r.passed, r.scored, r.pass_rate) for r in df.itertuples()}
    assert got == {"summarize v1": (1, 2, 0.5), "summarize v2": (1, 1, 1.0)}


def test_time_bounds_and_an_empty_database(workspace) -> None:  # type: ignore[no-untyped-def]
    assert time_bounds(workspace) is None
    seed(workspace, [S(T0), S(T0 + HOUR_NS)])
    first, last = time_bounds(workspace)  # type: ignore[misc]
    assert (first, last) == (
        datetime(2026, 3, 1, 10, tzinfo=UTC),
        datetime(2026, 3, 1, 11, tzinfo=UTC),
    )
    assert metric_series(workspace, _q(since_ns=T0 + 5 * HOUR_NS, until_ns=T0 + 6 * HOUR_NS)).empty
