"""The Traces list: spans newest first, filtered and paged in SQL with a keyset cursor.

A page is `ORDER BY start_ns DESC, id DESC LIMIT n` after `(start_ns, id) < cursor`, so
page 1,000 costs what page 1 costs (no OFFSET walk). The wide columns (messages,
attributes) are not read for the list; `trace_detail` reads them for one trace.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text

from promptyard.storage import db
from promptyard.traces.filtering import (
    TEXT_SCAN_WINDOW,
    SpanFilters,
    TraceQueryError,
    decode_cursor,
    encode_cursor,
    from_ns,
    text_sql,
    where_sql,
)
from promptyard.workspace import Workspace

DEFAULT_LIMIT = 50
MAX_LIMIT = 1_000
COUNT_CAP = 10_000
"""`count_spans` stops counting here: the page shows "10,000+" rather than scan a million."""
PREVIEW_CHARS = 200

_LIST_COLUMNS = (
    "s.id, s.trace_id, s.span_id, s.parent_span_id, s.name, s.start_ns, s.duration_ms,"
    " s.status, s.is_llm, s.prompt_name, s.prompt_version, s.prompt_label, s.prompt_link,"
    " s.request_model, s.response_model, s.input_tokens, s.output_tokens, s.cost_usd,"
    " s.ttft_ms, s.user_id, s.session_id, substr(s.output_text, 1, :preview) AS preview"
)


@dataclass(frozen=True)
class FeedbackSummary:
    """End users' feedback on one trace: how many scores, and the mean of the numeric ones."""

    count: int
    mean: float | None  # None: no numeric value among them


@dataclass(frozen=True)
class SpanRow:
    """One line of the Traces list. `cost_usd` None means the price is unknown."""

    id: int
    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    start_ns: int
    duration_ms: float
    status: str
    is_llm: bool
    prompt_name: str | None
    prompt_version: int | None
    prompt_label: str | None
    prompt_link: str | None
    request_model: str | None
    response_model: str | None
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None
    ttft_ms: float | None
    user_id: str | None
    session_id: str | None
    output_preview: str | None
    feedback: FeedbackSummary | None = None

    @property
    def started_at(self) -> datetime:
        return from_ns(self.start_ns)

    @property
    def prompt(self) -> str | None:
        """`name v3` (or `name`), None when the span names no prompt."""
        if not self.prompt_name:
            return None
        return (
            f"{self.prompt_name} v{self.prompt_version}"
            if self.prompt_version
            else self.prompt_name
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ids, prompt, models, tokens, latency, cost (None = unknown), who."""
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["latency_ms"] = data.pop("duration_ms")
        data["output_preview"] = self.output_preview
        return data


@dataclass(frozen=True)
class SpanPage:
    """One page of the list; `next_cursor` fetches the page after it (None: the last page).

    `window_exhausted`: a free-text search looked through `TEXT_SCAN_WINDOW` spans without
    filling the page; the next cursor goes on searching from where it stopped.
    """

    spans: list[SpanRow]
    next_cursor: str | None
    window_exhausted: bool = False
    filters: SpanFilters = field(default_factory=SpanFilters)


def _row(r: Any) -> SpanRow:
    return SpanRow(
        id=int(r.id),
        trace_id=r.trace_id,
        span_id=r.span_id,
        parent_span_id=r.parent_span_id,
        name=r.name,
        start_ns=int(r.start_ns),
        duration_ms=float(r.duration_ms),
        status=r.status,
        is_llm=bool(r.is_llm),
        prompt_name=r.prompt_name,
        prompt_version=r.prompt_version,
        prompt_label=r.prompt_label,
        prompt_link=r.prompt_link,
        request_model=r.request_model,
        response_model=r.response_model,
        input_tokens=r.input_tokens,
        output_tokens=r.output_tokens,
        cost_usd=r.cost_usd,
        ttft_ms=r.ttft_ms,
        user_id=r.user_id,
        session_id=r.session_id,
        output_preview=r.preview,
    )


def _keyset(cursor: str | None, params: dict[str, Any]) -> list[str]:
    if not cursor:
        return []
    params["c_start"], params["c_id"] = decode_cursor(cursor)
    return ["(s.start_ns < :c_start OR (s.start_ns = :c_start AND s.id < :c_id))"]


def feedback_by_trace(ws: Workspace | str, trace_ids: list[str]) -> dict[str, FeedbackSummary]:
    """Feedback count and numeric mean per trace, for the traces named."""
    if not trace_ids:
        return {}
    params = {f"t{i}": t for i, t in enumerate(sorted(set(trace_ids)))}
    names = ", ".join(f":{k}" for k in params)
    sql = text(
        "SELECT trace_id, COUNT(*) AS n, AVG(value) AS mean FROM trace_feedback"
        f" WHERE trace_id IN ({names}) GROUP BY trace_id"
    )
    with db.session(ws) as s:
        rows = s.connection().execute(sql, params).all()
    return {r.trace_id: FeedbackSummary(int(r.n), r.mean) for r in rows}


def list_spans(
    ws: Workspace | str,
    filters: SpanFilters | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> SpanPage:
    """One page of spans, newest first (start time, then id), with their trace's feedback.

    `cursor` is a page's `next_cursor` (None: the first page). Raises TraceQueryError on a
    bad filter, cursor or limit.
    """
    filters = filters or SpanFilters()
    if not 1 <= limit <= MAX_LIMIT:
        raise TraceQueryError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    params: dict[str, Any] = {"preview": PREVIEW_CHARS, "limit": limit + 1}
    where = where_sql(filters, params, with_text=False) + _keyset(cursor, params)
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    order = " ORDER BY s.start_ns DESC, s.id DESC"
    exhausted = False
    window_end: tuple[int, int] | None = None
    with db.session(ws) as s:
        conn = s.connection()
        if filters.search:
            params["window"] = TEXT_SCAN_WINDOW
            window = f"SELECT s.id, s.start_ns FROM span s{clause}{order} LIMIT :window"
            match = text_sql(filters, params)
            sql = (
                f"SELECT {_LIST_COLUMNS} FROM span s JOIN ({window}) w ON w.id = s.id"
                f" WHERE {match}{order} LIMIT :limit"
            )
            rows = conn.execute(text(sql), params).all()
            if len(rows) <= limit:
                scanned = conn.execute(text(f"SELECT COUNT(*) FROM ({window}) w"), params)
                if int(scanned.scalar_one()) >= TEXT_SCAN_WINDOW:
                    last = conn.execute(
                        text(
                            f"SELECT w.start_ns, w.id FROM ({window}) w"
                            " ORDER BY w.start_ns ASC, w.id ASC LIMIT 1"
                        ),
                        params,
                    ).one()
                    window_end = (int(last.start_ns), int(last.id))
                    exhausted = True
        elif filters.model:
            # One ordered index walk per model column, merged: an OR of the two would walk
            # every span newest first when few have the model.
            found: dict[int, Any] = {}
            for column in ("request_model", "response_model"):
                one: dict[str, Any] = {"preview": PREVIEW_CHARS, "limit": limit + 1}
                conds = where_sql(filters, one, with_text=False, model_column=column)
                conds += _keyset(cursor, one)
                sql = f"SELECT {_LIST_COLUMNS} FROM span s WHERE {' AND '.join(conds)}{order}"
                for r in conn.execute(text(sql + " LIMIT :limit"), one):
                    found[int(r.id)] = r
            rows = sorted(found.values(), key=lambda r: (r.start_ns, r.id), reverse=True)
            rows = rows[: limit + 1]
        else:
            sql = f"SELECT {_LIST_COLUMNS} FROM span s{clause}{order} LIMIT :limit"
            rows = conn.execute(text(sql), params).all()
    spans = [_row(r) for r in rows[:limit]]
    if len(rows) > limit:
        next_cursor: str | None = encode_cursor(spans[-1].start_ns, spans[-1].id)
    elif window_end is not None:
        next_cursor = encode_cursor(*window_end)
    else:
        next_cursor = None
    feedback = feedback_by_trace(ws, [r.trace_id for r in spans])
    spans = [_with_feedback(r, feedback.get(r.trace_id)) for r in spans]
    return SpanPage(spans, next_cursor, exhausted, filters)


def _with_feedback(row: SpanRow, summary: FeedbackSummary | None) -> SpanRow:
    if summary is None:
        return row
    return SpanRow(
        **{**{k: getattr(row, k) for k in row.__dataclass_fields__}, "feedback": summary}
    )


def count_spans(ws: Workspace | str, filters: SpanFilters | None = None) -> tuple[int, bool]:
    """(how many spans match, whether the count stopped at COUNT_CAP).

    Free text is not counted (it would scan every span); the count is of the other filters.
    """
    filters = filters or SpanFilters()
    params: dict[str, Any] = {"cap": COUNT_CAP + 1}
    where = where_sql(filters, params, with_text=False)
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    sql = text(f"SELECT COUNT(*) FROM (SELECT 1 FROM span s{clause} LIMIT :cap) capped")
    with db.session(ws) as s:
        n = int(s.connection().execute(sql, params).scalar_one())
    return min(n, COUNT_CAP), n > COUNT_CAP


@dataclass(frozen=True)
class TraceOptions:
    """What the filter widgets offer, read off the newest spans (not a scan of all)."""

    prompts: list[str]
    models: list[str]
    labels: list[str]
    score_names: list[str]
    empty: bool


OPTIONS_WINDOW = 20_000


def trace_options(ws: Workspace | str) -> TraceOptions:
    """Prompt names, models and labels among the newest OPTIONS_WINDOW spans, and the
    feedback score names; `empty` when no span has been received."""
    recent = text(
        "SELECT prompt_name, prompt_label, request_model, response_model FROM span"
        " ORDER BY start_ns DESC LIMIT :window"
    )
    with db.session(ws) as s:
        conn = s.connection()
        rows = conn.execute(recent, {"window": OPTIONS_WINDOW}).all()
        if not rows:
            return TraceOptions([], [], [], [], True)
        names = [
            str(r.name)
            for r in conn.execute(text("SELECT DISTINCT name FROM trace_feedback ORDER BY name"))
        ]

    def distinct(*columns: str) -> list[str]:
        return sorted({str(getattr(r, c)) for r in rows for c in columns if getattr(r, c)})

    prompts = distinct("prompt_name")
    models = distinct("request_model", "response_model")
    labels = distinct("prompt_label")
    return TraceOptions(prompts, models, labels, names, False)
