"""The Monitoring page's views segmented by user, session or a span attribute (migration
027's kept bucket figures) equal a span-by-span computation, on a workspace with many
users and sessions, after late, moved, updated and deleted spans; on SQLite, and on
PostgreSQL with -m postgres."""

from __future__ import annotations

import json
import math
import random
from collections import defaultdict
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import text

from promptyard.monitoring import (
    NO_SEGMENT,
    Granularity,
    MetricsQuery,
    Segment,
    metric_series,
    span_series,
)
from promptyard.stats import nearest_rank
from promptyard.storage import db
from promptyard.workspace import Workspace
from tests.monitoring_seed import HOUR_NS, S, seed

DAY_NS = 24 * HOUR_NS
T0 = 1_772_323_200 * 1_000_000_000  # 2026-03-01 00:00 UTC
WEEK = (T0, T0 + 7 * DAY_NS)
SEGMENTS = [(Segment.USER, None), (Segment.SESSION, None), (Segment.ATTRIBUTE, "geo.country")]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ws(
    request: pytest.FixtureRequest, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> Workspace:
    if request.param == "postgres":
        monkeypatch.setenv("PROMPTYARD_DATABASE_URL", request.getfixturevalue("postgres_url"))
    return workspace


def _spans(n: int, seed_: int, since: int = WEEK[0], until: int = WEEK[1]) -> list[S]:
    """Spans of 120 users (some with none), 300 sessions and three countries (or none)."""
    rng = random.Random(seed_)
    out = []
    for i in range(n):
        country = rng.choice(["FR", "DE", "US", None])
        out.append(
            S(
                start_ns=rng.randrange(since, until),
                duration_ms=round(rng.lognormvariate(5, 0.8), 3),
                status="error" if rng.random() < 0.1 else "ok",
                input_tokens=None if rng.random() < 0.1 else rng.randint(1, 900),
                output_tokens=rng.randint(1, 90),
                cost_usd=None if rng.random() < 0.2 else rng.randint(1, 1000) / 1e5,
                ttft_ms=None if rng.random() < 0.3 else round(rng.lognormvariate(4, 0.5), 3),
                user_id=None if rng.random() < 0.05 else f"user{rng.randint(1, 120)}",
                session_id=f"session{rng.randint(1, 300)}",
                attributes={} if country is None else {"geo.country": country, "n": i},
                trace_id=f"{seed_:08x}{i:024x}",
            )
        )
    return out


def _segment(s: S, segment: Segment) -> str:
    value = {
        Segment.USER: s.user_id,
        Segment.SESSION: s.session_id,
        Segment.ATTRIBUTE: s.attributes.get("geo.country"),
    }[segment]
    return NO_SEGMENT if value is None else str(value)


def _direct(spans: list[S], query: MetricsQuery) -> dict[tuple[int, str], dict[str, Any]]:
    """Per (bucket start, segment), computed here span by span: the oracle."""
    size = query.granularity.ns
    groups: dict[tuple[int, str], list[S]] = defaultdict(list)
    for s in spans:
        if query.since_ns <= s.start_ns < query.until_ns:
            groups[(s.start_ns // size * size, _segment(s, query.segment))].append(s)
    out = {}
    for key in sorted(groups):
        inside = groups[key]
        ok = sorted(s.duration_ms for s in inside if s.status != "error")
        ttft = sorted(s.ttft_ms for s in inside if s.status != "error" and s.ttft_ms is not None)
        tokens = [s.input_tokens for s in inside if s.input_tokens is not None]
        costs = [s.cost_usd for s in inside if s.cost_usd is not None]
        row: dict[str, Any] = {
            "calls": len(inside),
            "errors": sum(s.status == "error" for s in inside),
            "input_tokens": sum(tokens) if tokens else math.nan,
            "output_tokens": sum(s.output_tokens or 0 for s in inside),
            "cost_usd": sum(costs) if costs else math.nan,
            "cost_unknown": len(inside) - len(costs),
        }
        for p in (50, 95, 99):
            row[f"latency_p{p}"] = ok[nearest_rank(p, len(ok)) - 1] if ok else math.nan
            row[f"ttft_p{p}"] = ttft[nearest_rank(p, len(ttft)) - 1] if ttft else math.nan
        out[key] = row
    return out


def _assert_matches(ws: Workspace, spans: list[S], query: MetricsQuery) -> pd.DataFrame:
    got = metric_series(ws, query)
    want = _direct(spans, query)
    # Oldest first, then by segment name, as the page reads them.
    assert [(int(t.value), s) for t, s in zip(got["time"], got["segment"], strict=True)] == list(
        want
    )
    for (_, row), (key, expected) in zip(got.iterrows(), want.items(), strict=True):
        assert row["error_rate"] == expected["errors"] / expected["calls"], key
        for column, value in expected.items():
            if isinstance(value, float) and math.isnan(value):
                assert math.isnan(row[column]), (key, column)
            else:
                assert row[column] == pytest.approx(value, rel=1e-9), (key, column)
    return got


def _queries() -> list[MetricsQuery]:
    out = []
    for segment, attribute in SEGMENTS:
        for granularity in Granularity:
            out.append(MetricsQuery(*WEEK, granularity, segment, attribute))
        # A range that starts and ends inside an hour: its ends are never kept.
        odd = (WEEK[0] + 17 * 60 * 10**9, WEEK[1] - 5 * 10**9)
        out.append(MetricsQuery(*odd, Granularity.DAY, segment, attribute))
    return out


def test_segmented_views_equal_a_span_by_span_computation(ws: Workspace) -> None:
    spans = _spans(2500, 1)
    for part in (spans[:1200], spans[1200:]):  # two batches, in no time order
        seed(ws, part)
    for query in _queries():
        first = _assert_matches(ws, spans, query)
        # The second view reads the kept buckets: the same figures, and what the spans
        # themselves give (the reading before migration 027), row by row.
        again = _assert_matches(ws, spans, query)
        pd.testing.assert_frame_equal(first, again)
        pd.testing.assert_frame_equal(again, span_series(ws, query), rtol=1e-12)
    assert len(metric_series(ws, _queries()[0])["segment"].unique()) == 121  # and "(none)"


def test_changed_spans_are_read_again_in_their_own_buckets(ws: Workspace) -> None:
    spans = _spans(800, 2)
    seed(ws, spans)
    for query in _queries():
        metric_series(ws, query)  # every bucket kept
    late = S(
        start_ns=T0 + DAY_NS + 3 * HOUR_NS, duration_ms=99_999.0, user_id="user7",
        session_id="session9", attributes={"geo.country": "FR"}, trace_id="f" * 32,
    )  # fmt: skip
    seed(ws, [late])
    spans.append(late)
    # Updates that name only columns m025's rollups do not sum (m027's trigger sees them):
    # ingest gives a child its parent's session; an attribute or a duration corrected.
    moved, relabelled, gone = spans[0], spans[1], spans[3]
    slower = next(s for s in spans[4:] if s.status == "ok")
    with db.get_engine(ws).begin() as conn:
        conn.execute(
            text("UPDATE span SET session_id = 'session-moved' WHERE trace_id = :t"),
            {"t": moved.trace_id},
        )
        conn.execute(
            text("UPDATE span SET attributes_json = :a WHERE trace_id = :t"),
            {"t": relabelled.trace_id, "a": json.dumps({"geo.country": "JP"})},
        )
        conn.execute(
            text("UPDATE span SET duration_ms = 123456.0 WHERE trace_id = :t"),
            {"t": slower.trace_id},
        )
        conn.execute(text("DELETE FROM span WHERE trace_id = :t"), {"t": gone.trace_id})
    moved.session_id = "session-moved"
    relabelled.attributes = {"geo.country": "JP"}
    slower.duration_ms = 123456.0
    spans.remove(gone)
    for query in _queries():
        _assert_matches(ws, spans, query)


def test_a_corrected_duration_reaches_the_kept_percentiles_of_every_segment(
    ws: Workspace,
) -> None:
    spans = _spans(300, 3)
    seed(ws, spans)
    plain = MetricsQuery(*WEEK, granularity=Granularity.DAY)
    by_version = MetricsQuery(*WEEK, Granularity.DAY, Segment.PROMPT_VERSION)
    for query in (plain, by_version):
        metric_series(ws, query)  # m025 keeps every day's percentiles
    slowest = max((s for s in spans if s.status == "ok"), key=lambda s: s.duration_ms)
    with db.get_engine(ws).begin() as conn:  # an update that names only the duration
        conn.execute(
            text("UPDATE span SET duration_ms = 1000000.0 WHERE trace_id = :t"),
            {"t": slowest.trace_id},
        )
    for query in (plain, by_version):
        day = metric_series(ws, query)
        bucket = day["time"].astype("int64") == slowest.start_ns // DAY_NS * DAY_NS
        assert day.loc[bucket, "latency_p99"].max() == 1_000_000.0  # not the kept value


def test_a_second_view_reads_the_kept_buckets_not_the_spans(ws: Workspace) -> None:
    spans = _spans(600, 4)
    seed(ws, spans)
    week = MetricsQuery(*WEEK, Granularity.DAY, Segment.USER)
    first = metric_series(ws, week)
    engine = db.get_engine(ws)
    with engine.connect() as conn:
        kept = conn.execute(
            text("SELECT lo_ns FROM span_segment WHERE segment_kind = 'user' ORDER BY lo_ns")
        ).all()
    assert [int(r[0]) for r in kept] == [T0 + d * DAY_NS for d in range(7)]  # a row a day
    # Spans taken away behind the triggers' back: a view that read them would see none.
    with engine.begin() as conn:
        _drop_span_triggers(conn)
        conn.execute(text("DELETE FROM span"))
    pd.testing.assert_frame_equal(metric_series(ws, week), first)


def test_migration_027_on_a_database_with_spans(ws: Workspace) -> None:
    spans = _spans(500, 5)
    seed(ws, spans)
    engine = db.get_engine(ws)
    with engine.begin() as conn:  # back to the schema before m027, spans stored
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER span_segment_touch ON span"))
            conn.execute(text("DROP FUNCTION span_segment_touch()"))
        else:
            conn.execute(text("DROP TRIGGER span_segment_touch"))
        conn.execute(text("DROP TABLE span_segment"))
        conn.execute(text("DELETE FROM _migrations WHERE name = '027_segment_cache'"))
    assert db.migrate(engine) == ["027_segment_cache"]
    for query in _queries():
        _assert_matches(ws, spans, query)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE span SET session_id = 'elsewhere' WHERE trace_id = :t"),
            {"t": spans[0].trace_id},
        )
    spans[0].session_id = "elsewhere"
    for query in _queries():
        _assert_matches(ws, spans, query)


def _drop_span_triggers(conn: Any) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("DROP TRIGGER span_rollup_change ON span"))
        conn.execute(text("DROP TRIGGER span_segment_touch ON span"))
        return
    for name in ("insert", "delete", "update_old", "update_new"):
        conn.execute(text(f"DROP TRIGGER span_rollup_{name}"))
    conn.execute(text("DROP TRIGGER span_segment_touch"))
