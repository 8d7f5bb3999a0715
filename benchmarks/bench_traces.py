"""How fast the Traces page's queries are with a million spans in SQLite.

Inserts N spans (default 1,000,000: traces of one root, one retrieval and two LLM calls,
5,000 users, 50,000 sessions, 5 prompts x 10 versions, 1% errors) and 20,000 feedback
entries with executemany, then times the list's first page with and without each filter,
a page deep in the list, the capped count, a trace detail, a session and the dashboard's
feedback per version. Each query runs three times; the table shows the slowest.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_traces.py [--spans N]

Prints a table; the numbers go in docs/benchmarks.md ("## Traces").
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from promptyard import traces  # noqa: E402
from promptyard.storage import db  # noqa: E402
from promptyard.traces import SpanFilters, SpanScope  # noqa: E402
from promptyard.workspace import Workspace  # noqa: E402

T0 = 1_764_590_400_000_000_000
MS = 1_000_000
MODELS = ("gpt-4o-mini", "gpt-4o", "claude-3-5-haiku", "sim-fast")
PROMPTS = ("summarize", "support_reply", "classify", "extract_invoice", "translate")
COLUMNS = (
    "trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns, duration_ms, status,"
    " is_llm, system, operation, request_model, response_model, input_tokens, output_tokens,"
    " cost_usd, ttft_ms, input_messages_json, output_messages_json, output_text,"
    " parameters_json, prompt_name, prompt_version, prompt_label, prompt_variables_json,"
    " prompt_link, user_id, session_id, attributes_json, received_at"
)
WORDS = [
    "desk",
    "refund",
    "order",
    "motor",
    "band",
    "sync",
    "steps",
    "invoice",
    "late",
    "shipping",
    "account",
    "password",
]


def _spans(n_spans: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    received = datetime.now(UTC).isoformat(sep=" ")
    for t in range(n_spans // 4):
        trace = f"{rng.getrandbits(128):032x}"
        start = T0 + t * 50 * MS  # one trace every 50 ms: 250,000 traces over 3.5 hours
        user = f"user-{t % 5_000}"
        session = f"sess-{t % 50_000}"
        root = f"{rng.getrandbits(64):016x}"
        error = t % 100 == 0
        yield (trace, root, None, "POST /chat", "server", start, start + 900 * MS, 900.0,
               "error" if error else "ok", False, None, None, None, None, None, None, None,
               None, None, None, None, None, None, None, None, None, None, user, session,
               '{"http.route": "/chat"}', received)  # fmt: skip
        retrieve = f"{rng.getrandbits(64):016x}"
        yield (trace, retrieve, root, "retrieve", "internal", start + MS, start + 40 * MS, 39.0,
               "ok", False, None, None, None, None, None, None, None, None, None, None, None,
               None, None, None, None, None, None, None, None, "{}", received)  # fmt: skip
        for k in range(2):
            model = MODELS[(t + k) % len(MODELS)]
            prompt = PROMPTS[t % len(PROMPTS)]
            words = " ".join(rng.choice(WORDS) for _ in range(12))
            out = f"Answer {t}.{k}: {words}"
            messages = json.dumps([{"role": "user", "content": f"Question {t}: {words}"}])
            begin = start + (50 + 400 * k) * MS
            yield (trace, f"{rng.getrandbits(64):016x}", root, f"chat {model}", "client", begin,
                   begin + 380 * MS, 380.0, "error" if error and k else "ok", True, "openai",
                   "chat", model, model + "-2024", 200 + t % 50, 40 + t % 20,
                   None if model == "sim-fast" else 0.0002, 95.0, messages,
                   json.dumps([{"role": "assistant", "content": out}]), out,
                   '{"temperature": 0.2}', prompt, 1 + t % 10,
                   "production" if t % 10 == 9 else None, json.dumps({"text": words}),
                   "linked", user, session, "{}", received)  # fmt: skip


def generate(ws: Workspace, n_spans: int, n_feedback: int) -> float:
    """Insert the spans and feedback with executemany in batches; returns seconds taken."""
    engine = db.get_engine(ws)
    rng = random.Random(7)
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        marks = ", ".join("?" for _ in COLUMNS.split(","))
        sql = f"INSERT INTO span ({COLUMNS}) VALUES ({marks})"
        batch: list[tuple[Any, ...]] = []
        cur.execute("BEGIN")
        for row in _spans(n_spans, rng):
            batch.append(row)
            if len(batch) == 20_000:
                cur.executemany(sql, batch)
                batch.clear()
        cur.executemany(sql, batch)
        cur.execute("SELECT trace_id FROM span WHERE parent_span_id IS NULL ORDER BY id LIMIT ?",
                    (n_feedback * 7,))  # fmt: skip
        rated = [r[0] for r in cur.fetchall()][::7]
        cur.executemany(
            "INSERT INTO trace_feedback (trace_id, name, value, source, created_at)"
            " VALUES (?, 'thumbs', ?, 'end_user', ?)",
            [
                (t, float(i % 3 != 0), datetime.now(UTC).isoformat(sep=" "))
                for i, t in enumerate(rated)
            ],
        )
        cur.execute("COMMIT")
        cur.execute("ANALYZE")
    finally:
        raw.close()
    return time.perf_counter() - started


def _time(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    worst, result = 0.0, None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        worst = max(worst, time.perf_counter() - started)
    return worst, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--feedback", type=int, default=20_000)
    parser.add_argument(
        "--no-page", dest="page", action="store_false", help="skip the AppTest page"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp))
        seconds = generate(ws, args.spans, args.feedback)
        size = (Path(tmp) / ".promptyard" / "promptyard.db").stat().st_size
        print(f"inserted {args.spans:,} spans + {args.feedback:,} feedback in {seconds:.1f} s"
              f" ({args.spans / seconds:,.0f} spans/s), database {size / 2**20:,.0f} MiB")  # fmt: skip
        first = traces.list_spans(ws).spans
        newest = first[0]
        middle = T0 + (args.spans // 8) * 50 * MS
        at = datetime.fromtimestamp(middle / 1e9, tz=UTC)
        deep_cursor = None
        for _ in range(100):
            deep_cursor = traces.list_spans(ws, cursor=deep_cursor, limit=50).next_cursor
        cases: list[tuple[str, Callable[[], Any]]] = [
            ("list, first page (LLM spans)", lambda: traces.list_spans(ws)),
            ("list, all root spans", lambda: traces.list_spans(ws, SpanFilters(scope=SpanScope.ROOTS))),
            ("list, page 101 (keyset cursor)", lambda: traces.list_spans(ws, cursor=deep_cursor)),
            ("list, time range (1 hour, mid-way)", lambda: traces.list_spans(
                ws, SpanFilters(since=at, until=at + timedelta(hours=1)))),
            ("list, prompt + version", lambda: traces.list_spans(
                ws, SpanFilters(prompt_name="classify", prompt_version=3))),
            ("list, label", lambda: traces.list_spans(ws, SpanFilters(prompt_label="production"))),
            ("list, model", lambda: traces.list_spans(ws, SpanFilters(model="claude-3-5-haiku"))),
            ("list, model no span has", lambda: traces.list_spans(
                ws, SpanFilters(model="no-such-model"))),
            ("list, label no span has", lambda: traces.list_spans(
                ws, SpanFilters(prompt_label="no-such-label"))),
            ("list, prompt + version, page 101", lambda: traces.list_spans(
                ws, SpanFilters(prompt_name="classify", prompt_version=3), cursor=deep_cursor)),
            ("list, errors + model", lambda: traces.list_spans(
                ws, SpanFilters(errors_only=True, model="gpt-4o"))),
            ("list, user", lambda: traces.list_spans(ws, SpanFilters(user_id="user-4321"))),
            ("list, session", lambda: traces.list_spans(ws, SpanFilters(session_id="sess-777"))),
            ("list, errors only", lambda: traces.list_spans(ws, SpanFilters(errors_only=True))),
            ("list, score thumbs <= 0", lambda: traces.list_spans(
                ws, SpanFilters(score_name="thumbs", score_max=0))),
            ("list, free text (common word)", lambda: traces.list_spans(ws, SpanFilters(text="refund"))),
            ("list, free text (no match, one window)", lambda: traces.list_spans(
                ws, SpanFilters(text="zzz-nowhere"))),
            ("count (capped at 10,000)", lambda: traces.count_spans(ws)),
            ("count, user", lambda: traces.count_spans(ws, SpanFilters(user_id="user-4321"))),
            ("filter options", lambda: traces.trace_options(ws)),
            ("trace detail", lambda: traces.trace_detail(ws, newest.trace_id)),
            ("session turns (5 turns)", lambda: traces.session_turns(ws, "sess-777")),
            ("recent sessions", lambda: traces.recent_sessions(ws)),
            ("feedback per prompt version", lambda: traces.feedback_by_version(ws)),
        ]  # fmt: skip
        print(f"\n| query ({args.spans:,} spans) | rows | seconds |")
        print("|---|---:|---:|")
        for name, fn in cases:
            seconds, result = _time(fn)
            rows = getattr(result, "spans", getattr(result, "turns", result))
            count = len(rows) if isinstance(rows, list) else "-"
            flag = "" if seconds < 1 else " (over 1 s)"
            print(f"| {name} | {count} | {seconds:.3f}{flag} |")
        if args.page:
            _page_times(ws, newest.trace_id)
        db.dispose_engines()


def _page_times(ws: Workspace, trace_id: str) -> None:
    """The Traces page as a user opens it (AppTest, a fresh session each): the list, then a trace."""
    os.environ["PROMPTYARD_HOME"] = str(ws.root)
    sys.path.insert(0, str(ROOT / "app"))
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    page = str(ROOT / "app" / "views" / "traces.py")
    # One render first, untimed: it imports streamlit, pandas and plotly (a cold process).
    AppTest.from_file(page, default_timeout=120).run()
    print("\n| Traces page (AppTest) | seconds |")
    print("|---|---:|")
    for name, state in (
        ("first render: filters + list", {}),
        ("with a trace open", {"traces.open": trace_id}),
    ):
        st.cache_data.clear()  # the filter options are read again, as on a first visit
        at = AppTest.from_file(page, default_timeout=120)
        for key, value in state.items():
            at.session_state[key] = value
        started = time.perf_counter()
        at.run()
        seconds = time.perf_counter() - started
        assert not at.exception, at.exception
        print(f"| {name} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
