"""The Monitoring page's queries over a million stored spans: what its first view costs.

Inserts N LLM spans (default 1,000,000) with executemany over 7 days, ending now: 4
prompts with 3 versions each, 3 requested and 5 provider-reported models, 2,000 users, 6
services, 50,000 sessions, 5% errors, 10% of prices unknown, and 2,000 feedback rows. Then
times each query the page runs on its first view (last 24 hours, by hour, no segment), the
same segmented by prompt version, the 7-day view by day, and the views segmented by user,
session and span attribute (which no rollup knows: migration 027 keeps their buckets'
figures), cold (nothing kept yet) and again, and prints a table.

    PYTHONPATH=src python benchmarks/bench_monitoring.py [--spans 1000000]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from promptyard import monitoring as mon  # noqa: E402
from promptyard.storage import db  # noqa: E402
from promptyard.workspace import Workspace  # noqa: E402
from tests.monitoring_seed import HOUR_NS, S, hour_start, insert_rows, row  # noqa: E402

DAYS = 7


def _spans(n: int, end_ns: int) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(13)
    span_ns = DAYS * 24 * HOUR_NS
    models = ["gpt-4o", "gpt-4o-mini", "claude-sonnet"]
    for i in range(n):
        start = end_ns - span_ns + (i * span_ns) // n
        prompt = f"prompt{i % 4}"
        # each prompt's version 2 and 3 arrive on days 3 and 5
        day = (start - (end_ns - span_ns)) // (24 * HOUR_NS)
        version = 1 + (day >= 3) + (day >= 5)
        model = models[i % 3]
        s = S(
            start_ns=start,
            duration_ms=rng.lognormvariate(6.0, 0.6),
            status="error" if rng.random() < 0.05 else "ok",
            prompt_name=prompt,
            prompt_version=version,
            prompt_label="production",
            request_model=model,
            response_model=f"{model}-2024-0{1 + (i % 5)}",
            input_tokens=rng.randint(50, 2000),
            output_tokens=rng.randint(10, 500),
            cost_usd=None if rng.random() < 0.1 else rng.random() / 100,
            ttft_ms=rng.lognormvariate(5.0, 0.5),
            user_id=f"user{rng.randint(1, 2000)}",
            session_id=f"session{i // 20}",
            service_name=f"service{i % 6}",
            attributes={"geo.country": ["FR", "DE", "US"][i % 3]},
            trace_id=f"{i:032x}",
            span_id=f"{i:016x}",
        )
        yield row(s)


def _time(fn: Callable[[], Any], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="a folder to keep (and reuse) the database in")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        ws = Workspace(folder)
        end_file = folder / "bench_end_ns"
        reuse = end_file.exists()
        end = int(end_file.read_text()) if reuse else hour_start() + HOUR_NS
        t0 = time.perf_counter()
        if not reuse:
            insert_rows(ws, _spans(args.spans, end))
        insert_s = time.perf_counter() - t0
        from sqlalchemy import inspect, text

        with db.get_engine(ws).begin() as conn:
            if reuse:
                conn.execute(text("DELETE FROM trace_feedback"))
            for i in range(2000):
                conn.execute(
                    text(
                        "INSERT INTO trace_feedback (trace_id, name, value, source, created_at)"
                        " VALUES (:t, 'thumbs', :v, 'end_user', '2026-01-01')"
                    ),
                    {"t": f"{(i * 499) % args.spans:032x}", "v": float(i % 2)},
                )
            conn.execute(text("ANALYZE"))
        if args.keep:
            end_file.write_text(str(end))
        day = mon.MetricsQuery(end - 24 * HOUR_NS, end)
        by_version = mon.MetricsQuery(end - 24 * HOUR_NS, end, segment=mon.Segment.PROMPT_VERSION)
        week = mon.MetricsQuery(end - DAYS * 24 * HOUR_NS, end, granularity=mon.Granularity.DAY)
        week_hourly = mon.MetricsQuery(end - DAYS * 24 * HOUR_NS, end)
        month = mon.MetricsQuery(end - 30 * 24 * HOUR_NS, end)
        week_by_model = mon.MetricsQuery(
            end - DAYS * 24 * HOUR_NS, end, mon.Granularity.DAY, mon.Segment.RESPONSE_MODEL
        )
        week_by_user = mon.MetricsQuery(
            end - DAYS * 24 * HOUR_NS, end, mon.Granularity.DAY, mon.Segment.USER
        )
        rows: list[tuple[str, float]] = []

        def first_view(q: mon.MetricsQuery) -> None:
            mon.time_bounds(ws)
            mon.metric_series(ws, q)
            mon.feedback_series(ws, q)
            mon.pass_rate_series(ws, q)
            mon.change_markers(ws, q.since_ns, q.until_ns)
            mon.top_consumers(ws, q.since_ns, q.until_ns)
            mon.span_attribute_keys(ws)

        week_by_session = mon.MetricsQuery(
            end - DAYS * 24 * HOUR_NS, end, mon.Granularity.DAY, mon.Segment.SESSION
        )
        week_by_country = mon.MetricsQuery(
            end - DAYS * 24 * HOUR_NS, end, mon.Granularity.DAY, mon.Segment.ATTRIBUTE,
            "geo.country",
        )  # fmt: skip
        week_hourly_by_user = mon.MetricsQuery(
            end - DAYS * 24 * HOUR_NS, end, mon.Granularity.HOUR, mon.Segment.USER
        )

        def forget() -> None:
            # The kept percentiles (m025) and segment figures (m027, when the code has it)
            # go: the next view computes every bucket's again.
            with db.get_engine(ws).begin() as conn:
                conn.execute(text("DELETE FROM span_percentile"))
                conn.execute(text("DELETE FROM span_percentile_stamp"))
                if inspect(conn).has_table("span_segment"):
                    conn.execute(text("DELETE FROM span_segment"))

        forget()
        t0 = time.perf_counter()
        first_view(week)
        rows.append(("7 days by day, cold (once)", time.perf_counter() - t0))
        forget()
        t0 = time.perf_counter()
        first_view(day)
        rows.append(("first view, cold (once)", time.perf_counter() - t0))
        forget()
        t0 = time.perf_counter()
        first_view(week_by_user)
        rows.append(("7 days by day, by user, cold (once)", time.perf_counter() - t0))
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("time_bounds", lambda: mon.time_bounds(ws)),
            ("metric_series 24h/hour", lambda: mon.metric_series(ws, day)),
            ("feedback_series 24h/hour", lambda: mon.feedback_series(ws, day)),
            ("pass_rate_series 24h/hour", lambda: mon.pass_rate_series(ws, day)),
            ("change_markers", lambda: mon.change_markers(ws, day.since_ns, day.until_ns)),
            ("top_consumers 24h", lambda: mon.top_consumers(ws, day.since_ns, day.until_ns)),
            ("span_attribute_keys", lambda: mon.span_attribute_keys(ws)),
            ("FIRST VIEW (24h, by hour)", lambda: first_view(day)),
            ("24h by prompt version", lambda: first_view(by_version)),
            ("7 days, by day", lambda: first_view(week)),
            ("7 days, by hour", lambda: first_view(week_hourly)),
            ("30 days, by hour", lambda: first_view(month)),
            ("7 days by day, by reported model", lambda: first_view(week_by_model)),
            ("metric_series 7d/day by user", lambda: mon.metric_series(ws, week_by_user)),
            ("7 days by day, by user", lambda: first_view(week_by_user)),
            ("7 days by day, by session", lambda: first_view(week_by_session)),
            ("7 days by day, by attribute", lambda: first_view(week_by_country)),
            ("7 days by hour, by user", lambda: first_view(week_hourly_by_user)),
        ]
        for name, fn in steps:
            rows.append((name, _time(fn)))

        def after_a_new_span() -> float:
            # A live page: a span arrives in the current hour, so today's bucket (only it)
            # is computed again from its spans. The spans added here are taken out after.
            best = float("inf")
            for k in range(3):
                new = S(start_ns=end - HOUR_NS // 2, trace_id=f"bench-new-{k}", span_id="1")
                insert_rows(ws, [row(new)])
                t0 = time.perf_counter()
                first_view(week_by_user)
                best = min(best, time.perf_counter() - t0)
            with db.get_engine(ws).begin() as conn:
                conn.execute(text("DELETE FROM span WHERE trace_id LIKE 'bench-new-%'"))
            return best

        rows.append(("7 days by day, by user, a new span", after_a_new_span()))
        stored = db.get_engine(ws).connect().execute(text("SELECT COUNT(*) FROM span")).scalar()
        print(f"{stored:,} spans over {DAYS} days; inserted in {insert_s:.1f} s (0 = reused)")
        print(f"{'query':<38} {'seconds':>8}")
        print("-" * 47)
        for name, seconds in rows:
            print(f"{name:<38} {seconds:>8.3f}")
        db.dispose_engines()


if __name__ == "__main__":
    main()
