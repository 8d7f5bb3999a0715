"""The Monitoring page's figures from migration 025's rollups and percentile cache equal a
direct computation over the spans, also after late, out-of-order, moved and concurrent
writes; on SQLite, and on PostgreSQL with -m postgres."""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text

from promptyard.monitoring import (
    Granularity,
    MetricsQuery,
    Segment,
    metric_series,
    span_series,
    top_consumers,
)
from promptyard.stats import nearest_rank
from promptyard.storage import db
from promptyard.workspace import Workspace
from tests import monitoring_seed
from tests.monitoring_seed import HOUR_NS, S, seed

DAY_NS = 24 * HOUR_NS
T0 = 1_772_323_200 * 1_000_000_000  # 2026-03-01 00:00 UTC
WEEK = (T0, T0 + 7 * DAY_NS)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ws(
    request: pytest.FixtureRequest, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> Workspace:
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        monkeypatch.setenv("PROMPTYARD_DATABASE_URL", url)
    return workspace


def _spans(n: int, seed_: int, since: int = WEEK[0], until: int = WEEK[1]) -> list[S]:
    rng = random.Random(seed_)
    out = []
    for i in range(n):
        out.append(
            S(
                start_ns=rng.randrange(since, until),
                duration_ms=round(rng.lognormvariate(5, 0.8), 3),
                status="error" if rng.random() < 0.1 else "ok",
                prompt_version=rng.choice([1, 2, 3]),
                response_model=rng.choice(["gpt-4o-a", "gpt-4o-b"]),
                input_tokens=None if rng.random() < 0.1 else rng.randint(1, 900),
                output_tokens=rng.randint(1, 90),
                cost_usd=None if rng.random() < 0.2 else rng.randint(1, 1000) / 1e5,
                ttft_ms=None if rng.random() < 0.3 else round(rng.lognormvariate(4, 0.5), 3),
                user_id=rng.choice(["ann", "bob", None]),
                service_name=rng.choice(["bot", "api"]),
                trace_id=f"{seed_:08x}{i:024x}",
            )
        )
    return out


def _direct(spans: list[S], since: int, until: int, size: int) -> dict[int, dict[str, Any]]:
    """Per bucket, computed here from the spans with numpy: the oracle."""
    out: dict[int, dict[str, Any]] = {}
    for b in sorted({s.start_ns // size for s in spans if since <= s.start_ns < until}):
        inside = [s for s in spans if s.start_ns // size == b and since <= s.start_ns < until]
        ok = np.sort([s.duration_ms for s in inside if s.status != "error"])
        ttft = np.sort([s.ttft_ms for s in inside if s.status != "error" and s.ttft_ms])
        costs = [s.cost_usd for s in inside if s.cost_usd is not None]
        row: dict[str, Any] = {
            "calls": len(inside),
            "errors": sum(s.status == "error" for s in inside),
            "input_tokens": sum(known)
            if (known := [s.input_tokens for s in inside if s.input_tokens is not None])
            else math.nan,
            "cost_usd": sum(costs) if costs else math.nan,
            "cost_unknown": len(inside) - len(costs),
        }
        for p in (50, 95, 99):
            row[f"latency_p{p}"] = ok[nearest_rank(p, len(ok)) - 1] if len(ok) else math.nan
            row[f"ttft_p{p}"] = ttft[nearest_rank(p, len(ttft)) - 1] if len(ttft) else math.nan
        out[b * size] = row
    return out


def _assert_matches(ws: Workspace, spans: list[S], query: MetricsQuery) -> None:
    got = metric_series(ws, query)
    want = _direct(spans, query.since_ns, query.until_ns, query.granularity.ns)
    assert [int(t.value) for t in got["time"]] == list(want)
    for (_, row), (start, expected) in zip(got.iterrows(), want.items(), strict=True):
        for column, value in expected.items():
            if isinstance(value, float) and math.isnan(value):
                assert math.isnan(row[column]), (start, column)
            else:
                assert row[column] == pytest.approx(value, rel=1e-9), (start, column)


def test_the_7_day_view_equals_a_direct_computation_over_the_spans(ws: Workspace) -> None:
    spans = _spans(1500, 1)
    # Three batches, each in no particular time order: the rollups are filled out of order.
    for part in (spans[:500], spans[500:1000], spans[1000:]):
        seed(ws, part)
    for granularity in Granularity:
        _assert_matches(ws, spans, MetricsQuery(*WEEK, granularity=granularity))
    # The second view reads the kept percentiles: still the same figures.
    _assert_matches(ws, spans, MetricsQuery(*WEEK, granularity=Granularity.DAY))
    # A range that starts and ends inside an hour: its ends are read from the spans.
    odd = MetricsQuery(WEEK[0] + 17 * 60 * 10**9, WEEK[1] - 5 * 10**9, Granularity.DAY)
    _assert_matches(ws, spans, odd)
    # Segmented, the rollup path and the direct reading of the spans agree row by row.
    for segment in (Segment.PROMPT_VERSION, Segment.RESPONSE_MODEL, Segment.SERVICE):
        q = MetricsQuery(*WEEK, granularity=Granularity.DAY, segment=segment)
        a, b = metric_series(ws, q), span_series(ws, q)
        assert a[["time", "segment", "calls", "errors"]].equals(
            b[["time", "segment", "calls", "errors"]]
        )
        assert np.allclose(a["latency_p95"], b["latency_p95"], equal_nan=True)
        assert np.allclose(a["ttft_p99"], b["ttft_p99"], equal_nan=True)
        assert np.allclose(a["cost_usd"], b["cost_usd"], equal_nan=True)


def test_a_late_span_lands_in_its_own_bucket_and_changes_its_percentiles(ws: Workspace) -> None:
    spans = _spans(300, 2)
    seed(ws, spans)
    week = MetricsQuery(*WEEK, granularity=Granularity.DAY)
    before = metric_series(ws, week)  # the percentiles of every day are kept now
    # Arrives last, started on day 2, slower than everything: day 2's p99 and count move.
    late = S(start_ns=T0 + DAY_NS + 3 * HOUR_NS, duration_ms=99_999.0, trace_id="f" * 32)
    seed(ws, [late])
    after = metric_series(ws, week)
    day2 = after["time"].astype("int64") == T0 + DAY_NS
    assert int(after.loc[day2, "calls"].iloc[0]) == int(before.loc[day2, "calls"].iloc[0]) + 1
    assert float(after.loc[day2, "latency_p99"].iloc[0]) == 99_999.0  # under 100 spans a day
    others = ~day2
    assert after.loc[others, "calls"].tolist() == before.loc[others, "calls"].tolist()
    _assert_matches(ws, [*spans, late], week)
    hourly = MetricsQuery(T0 + DAY_NS, T0 + 2 * DAY_NS)
    _assert_matches(ws, [*spans, late], hourly)


def test_moved_and_deleted_spans_leave_the_rollups_right(ws: Workspace) -> None:
    spans = _spans(200, 3)
    seed(ws, spans)
    metric_series(ws, MetricsQuery(*WEEK, granularity=Granularity.DAY))
    # A child's prompt is filled in later (ingest does this), a span is deleted, one fails.
    with db.get_engine(ws).begin() as conn:
        conn.execute(
            text("UPDATE span SET prompt_version = 7, status = 'error' WHERE trace_id = :t"),
            {"t": spans[0].trace_id},
        )
        conn.execute(text("DELETE FROM span WHERE trace_id = :t"), {"t": spans[1].trace_id})
    spans[0].prompt_version, spans[0].status = 7, "error"
    kept = [s for s in spans if s is not spans[1]]
    _assert_matches(ws, kept, MetricsQuery(*WEEK, granularity=Granularity.DAY))
    q = MetricsQuery(*WEEK, granularity=Granularity.DAY, segment=Segment.PROMPT_VERSION)
    a, b = metric_series(ws, q), span_series(ws, q)
    assert a[["time", "segment", "calls", "errors"]].equals(
        b[["time", "segment", "calls", "errors"]]
    )


def test_top_consumers_from_the_rollups_equal_the_spans(ws: Workspace) -> None:
    spans = _spans(400, 4)
    seed(ws, spans)
    since, until = WEEK[0] + 90 * 60 * 10**9, WEEK[1]  # starts mid-hour
    got = top_consumers(ws, since, until)
    inside = [s for s in spans if since <= s.start_ns < until]
    for kind, key in (("user", "user_id"), ("service", "service_name")):
        rows = got[got["kind"] == kind]
        for _, row in rows.iterrows():
            mine = [s for s in inside if (getattr(s, key) or "(none)") == row["consumer"]]
            assert row["calls"] == len(mine)
            assert row["input_tokens"] == sum(s.input_tokens or 0 for s in mine)
            costs = [s.cost_usd for s in mine if s.cost_usd is not None]
            assert row["cost_usd"] == pytest.approx(sum(costs))
            assert row["cost_unknown"] == len(mine) - len(costs)
        assert int(rows["calls"].sum()) == len(inside)


def _writers(ws: Workspace, batches: list[list[S]]) -> Iterator[threading.Thread]:
    for batch in batches:
        yield threading.Thread(target=seed, args=(ws, batch))


def test_concurrent_writers_lose_no_span_in_the_rollups(ws: Workspace) -> None:
    # Four writers at once, each with spans over the same hours in its own order.
    batches = [_spans(150, 10 + n, T0, T0 + 6 * HOUR_NS) for n in range(4)]
    threads = list(_writers(ws, batches))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    spans = [s for b in batches for s in b]
    _assert_matches(ws, spans, MetricsQuery(T0, T0 + 6 * HOUR_NS))


def test_a_range_moved_by_the_hour_keeps_one_cut_of_its_partial_days(ws: Workspace) -> None:
    spans = _spans(300, 5)
    seed(ws, spans)
    for k in range(3):  # the page's range ends one hour later at each new hour
        since, until = T0 + (5 + k) * HOUR_NS, T0 + 6 * DAY_NS + (10 + k) * HOUR_NS
        _assert_matches(ws, spans, MetricsQuery(since, until, Granularity.DAY))
    with db.get_engine(ws).connect() as conn:
        cuts = conn.execute(
            text(
                "SELECT lo_ns, hi_ns FROM span_percentile_stamp WHERE segment_kind = 'none'"
                " AND hi_ns - lo_ns <> :day ORDER BY lo_ns"
            ),
            {"day": DAY_NS},
        ).all()
    assert [tuple(c) for c in cuts] == [(since, T0 + DAY_NS), (T0 + 6 * DAY_NS, until)]


def test_a_database_from_before_migration_025_gets_its_spans_rolled_up(ws: Workspace) -> None:
    engine = db.get_engine(ws)
    with engine.begin() as conn:  # back to the schema before m025, spans stored without it
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER span_rollup_change ON span"))
            conn.execute(text("DROP FUNCTION span_rollup_apply()"))
        else:
            for name in ("insert", "delete", "update_old", "update_new"):
                conn.execute(text(f"DROP TRIGGER span_rollup_{name}"))
        for table in (
            "span_rollup",
            "span_rollup_user",
            "span_percentile",
            "span_percentile_stamp",
        ):
            conn.execute(text(f"DROP TABLE {table}"))
        conn.execute(text("DELETE FROM _migrations WHERE name = '025_span_rollups'"))
    spans = _spans(400, 6)
    raw = engine.raw_connection()
    try:
        insert = monitoring_seed.INSERT
        sql = insert.replace("?", "%s") if engine.dialect.name == "postgresql" else insert
        raw.cursor().executemany(sql, [monitoring_seed.row(s) for s in spans])
        raw.commit()
    finally:
        raw.close()
    db.dispose_engines()  # the next engine migrates: m025 sums the stored spans
    _assert_matches(ws, spans, MetricsQuery(*WEEK, granularity=Granularity.DAY))
    users = top_consumers(ws, *WEEK)
    assert int(users[users["kind"] == "user"]["calls"].sum()) == len(spans)
