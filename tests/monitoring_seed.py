"""Spans for the Monitoring tests and benchmark, inserted straight into the span table."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from promptyard.storage import db, get_engine
from promptyard.workspace import Workspace

HOUR_NS = 3_600 * 1_000_000_000


@dataclass
class S:
    """One LLM span to seed: what the tests vary; the rest has plain defaults."""

    start_ns: int
    duration_ms: float = 100.0
    status: str = "ok"
    prompt_name: str | None = "summarize"
    prompt_version: int | None = 1
    prompt_label: str | None = "production"
    request_model: str | None = "gpt-4o"
    response_model: str | None = "gpt-4o-2024-08-06"
    input_tokens: int | None = 100
    output_tokens: int | None = 20
    cost_usd: float | None = 0.001
    ttft_ms: float | None = None
    user_id: str | None = "alice"
    session_id: str | None = "s1"
    service_name: str | None = "support-bot"
    attributes: dict[str, Any] = field(default_factory=dict)
    trace_id: str = ""
    span_id: str = ""
    is_llm: bool = True


COLUMNS = (
    "trace_id", "span_id", "name", "kind", "service_name", "start_ns", "end_ns",
    "duration_ms", "status", "is_llm", "operation", "request_model", "response_model",
    "input_tokens", "output_tokens", "cost_usd", "ttft_ms", "prompt_name", "prompt_version",
    "prompt_label", "user_id", "session_id", "attributes_json", "received_at",
)  # fmt: skip
INSERT = f"INSERT INTO span ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"


def row(s: S) -> tuple[Any, ...]:
    """The INSERT parameters of one seeded span."""
    return (
        s.trace_id or secrets.token_hex(16),
        s.span_id or secrets.token_hex(8),
        "chat",
        "client",
        s.service_name,
        s.start_ns,
        s.start_ns + int(s.duration_ms * 1e6),
        s.duration_ms,
        s.status,
        bool(s.is_llm),
        "chat",
        s.request_model,
        s.response_model,
        s.input_tokens,
        s.output_tokens,
        s.cost_usd,
        s.ttft_ms,
        s.prompt_name,
        s.prompt_version,
        s.prompt_label,
        s.user_id,
        s.session_id,
        json.dumps(s.attributes),
        "2026-01-01 00:00:00",
    )


def insert_rows(ws: Workspace, rows: Iterable[tuple[Any, ...]]) -> None:
    """executemany of ready INSERT parameter tuples, in one transaction."""
    engine = get_engine(ws)
    db.migrate(engine)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        # sqlite3 takes ? placeholders, psycopg %s (the monitors run on PostgreSQL too).
        sql = INSERT.replace("?", "%s") if engine.dialect.name == "postgresql" else INSERT
        cur.executemany(sql, rows)
        raw.commit()
    finally:
        raw.close()


def seed(ws: Workspace, spans: Iterable[S]) -> list[int]:
    """Insert the spans; their row ids, in order."""
    spans = list(spans)
    insert_rows(ws, (row(s) for s in spans))
    with get_engine(ws).connect() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT id FROM span ORDER BY id"))]
    return ids[-len(spans) :] if spans else []


def feedback(ws: Workspace, trace_id: str, value: float, name: str = "thumbs") -> None:
    """One end user's numeric feedback on a trace."""
    with get_engine(ws).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO trace_feedback (trace_id, name, value, source, created_at)"
                " VALUES (:t, :n, :v, 'end_user', :c)"
            ),
            {"t": trace_id, "n": name, "v": value, "c": datetime.now(UTC).replace(tzinfo=None)},
        )


def hour_start(now: datetime | None = None) -> int:
    """The start of the current UTC hour in nanoseconds."""
    ns = int((now or datetime.now(UTC)).timestamp()) * 1_000_000_000
    return ns - ns % HOUR_NS
