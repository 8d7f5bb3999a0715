"""What the Traces list can be filtered by (`SpanFilters`) and the SQL it becomes.

Every filter is a condition on the `span` table that one of its indexes serves
(start_ns, is_llm+start_ns, user+start_ns, session+start_ns, prompt, trace_id), or, for
the end users' scores, a look-up in `trace_feedback`. Free text is a LIKE over the output
and the input messages: no index can serve it, so a page scans a bounded window of spans
(`TEXT_SCAN_WINDOW`), newest first, and says when it stopped early.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from promptyard.errors import PromptyardError

TEXT_SCAN_WINDOW = 100_000
"""How many spans (after the other filters) one page of a free-text search looks through."""
MAX_TEXT = 200
"""The longest free-text search term accepted."""
MAX_IDS = 1_000
"""The most span or trace ids one selection may name."""

_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
_SPAN_ID = re.compile(r"^[0-9a-f]{16}$")
_CURSOR = re.compile(r"^(-?\d{1,20})\.(\d{1,20})$")


class SpanScope(StrEnum):
    """Which spans the list shows: LLM calls (default), the root span of every trace, or all."""

    LLM = "llm"
    ROOTS = "roots"
    ALL = "all"


class TraceQueryError(PromptyardError):
    """A filter, cursor or id the trace queries cannot use; the message says which."""


def check_trace_id(trace_id: str) -> str:
    """`trace_id` lower-cased; TraceQueryError unless it is 32 hex digits."""
    value = trace_id.strip().lower()
    if not _TRACE_ID.match(value):
        raise TraceQueryError(f"trace id {trace_id!r} is not 32 hexadecimal digits")
    return value


def check_span_id(span_id: str) -> str:
    """`span_id` lower-cased; TraceQueryError unless it is 16 hex digits."""
    value = span_id.strip().lower()
    if not _SPAN_ID.match(value):
        raise TraceQueryError(f"span id {span_id!r} is not 16 hexadecimal digits")
    return value


def to_ns(moment: datetime) -> int:
    """Nanoseconds since the epoch of `moment` (a naive datetime is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1_000_000) * 1_000


def from_ns(ns: int) -> datetime:
    """The UTC datetime of `ns` nanoseconds since the epoch (microsecond precision)."""
    return datetime.fromtimestamp(ns / 1e9, tz=UTC)


@dataclass(frozen=True)
class SpanFilters:
    """A Traces list query; every field left at its default filters nothing.

    `model` matches the requested or the response model. `score_name`/`score_min`/
    `score_max` keep spans whose trace has end-user feedback (under that scheme, when
    named) with a value in the range. `text` is searched in the output text and the input
    messages. `trace_ids` keeps only those traces (a selection by hand).
    """

    since: datetime | None = None
    until: datetime | None = None
    prompt_name: str | None = None
    prompt_version: int | None = None
    prompt_label: str | None = None
    model: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    errors_only: bool = False
    score_name: str | None = None
    score_min: float | None = None
    score_max: float | None = None
    text: str | None = None
    trace_ids: tuple[str, ...] = field(default_factory=tuple)
    scope: SpanScope = SpanScope.LLM

    @property
    def has_score(self) -> bool:
        return bool(self.score_name) or self.score_min is not None or self.score_max is not None

    @property
    def search(self) -> str:
        return (self.text or "").strip()


def _clean(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def _check(filters: SpanFilters) -> None:
    if filters.since and filters.until and to_ns(filters.since) > to_ns(filters.until):
        raise TraceQueryError("the time range ends before it starts (since is after until)")
    if filters.prompt_version is not None and filters.prompt_version < 1:
        raise TraceQueryError(f"prompt version must be 1 or more, not {filters.prompt_version}")
    if filters.prompt_version is not None and not _clean(filters.prompt_name):
        raise TraceQueryError("a prompt version filter needs the prompt name too")
    lo, hi = filters.score_min, filters.score_max
    if lo is not None and hi is not None and lo > hi:
        raise TraceQueryError(f"the score range is empty: min {lo} is above max {hi}")
    if len(filters.search) > MAX_TEXT:
        raise TraceQueryError(
            f"the search text is {len(filters.search)} characters; at most {MAX_TEXT}"
        )
    if len(filters.trace_ids) > MAX_IDS:
        raise TraceQueryError(f"{len(filters.trace_ids)} trace ids; at most {MAX_IDS} at once")
    if filters.scope not in tuple(SpanScope):
        raise TraceQueryError(f"unknown scope {filters.scope!r}: use llm, roots or all")


def where_sql(
    filters: SpanFilters,
    params: dict[str, Any],
    *,
    with_text: bool,
    model_column: str | None = None,
) -> list[str]:
    """The conditions on `span` (alias `s`) for `filters`, their values put in `params`.

    `with_text`: include the free-text match (the caller may apply it over a window).
    `model_column`: match the model in this column only (request_model or response_model),
    so that column's (model, start_ns) index serves the query in order.
    """
    _check(filters)
    where: list[str] = []
    if filters.scope == SpanScope.LLM:
        # With a sharper filter the is_llm index must not win: the planner would walk every
        # LLM span newest first to find a model or label that few (or no) spans have.
        sharper = filters.model or filters.prompt_label or filters.errors_only
        where.append("COALESCE(s.is_llm, s.is_llm) = :is_llm" if sharper else "s.is_llm = :is_llm")
        params["is_llm"] = True
    elif filters.scope == SpanScope.ROOTS:
        where.append("s.parent_span_id IS NULL")
    if filters.since is not None:
        where.append("s.start_ns >= :since_ns")
        params["since_ns"] = to_ns(filters.since)
    if filters.until is not None:
        where.append("s.start_ns <= :until_ns")
        params["until_ns"] = to_ns(filters.until)
    if name := _clean(filters.prompt_name):
        where.append("s.prompt_name = :prompt_name")
        params["prompt_name"] = name
        if filters.prompt_version is not None:
            where.append("s.prompt_version = :prompt_version")
            params["prompt_version"] = int(filters.prompt_version)
    if label := _clean(filters.prompt_label):
        where.append("s.prompt_label = :prompt_label")
        params["prompt_label"] = label
    if model := _clean(filters.model):
        if model_column in ("request_model", "response_model"):
            where.append(f"s.{model_column} = :model")
        else:
            where.append("(s.request_model = :model OR s.response_model = :model)")
        params["model"] = model
    if user := _clean(filters.user_id):
        where.append("s.user_id = :user_id")
        params["user_id"] = user
    if session := _clean(filters.session_id):
        where.append("s.session_id = :session_id")
        params["session_id"] = session
    if filters.errors_only:
        where.append("s.status = 'error'")
    if filters.trace_ids:
        ids = sorted({check_trace_id(t) for t in filters.trace_ids})
        names = []
        for i, trace_id in enumerate(ids):
            params[f"tid{i}"] = trace_id
            names.append(f":tid{i}")
        where.append(f"s.trace_id IN ({', '.join(names)})")
    if filters.has_score:
        score = ["f.value IS NOT NULL"]
        if name := _clean(filters.score_name):
            score.append("f.name = :score_name")
            params["score_name"] = name
        if filters.score_min is not None:
            score.append("f.value >= :score_min")
            params["score_min"] = float(filters.score_min)
        if filters.score_max is not None:
            score.append("f.value <= :score_max")
            params["score_max"] = float(filters.score_max)
        where.append(
            "s.trace_id IN (SELECT f.trace_id FROM trace_feedback f WHERE "
            + " AND ".join(score)
            + ")"
        )
    if with_text and filters.search:
        where.append(text_sql(filters, params))
    return where


def text_sql(filters: SpanFilters, params: dict[str, Any]) -> str:
    """The free-text condition: a LIKE on output_text and input_messages_json, any case."""
    needle = filters.search.lower()
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    params["q"] = f"%{escaped}%"
    # lower() on both sides: SQLite's LIKE ignores case, PostgreSQL's does not.
    return (
        "(lower(s.output_text) LIKE :q ESCAPE '\\'"
        " OR lower(s.input_messages_json) LIKE :q ESCAPE '\\')"
    )


def encode_cursor(start_ns: int, row_id: int) -> str:
    """The keyset cursor after the span at (start_ns, id): `START_NS.ID`."""
    return f"{start_ns}.{row_id}"


def decode_cursor(cursor: str) -> tuple[int, int]:
    """(start_ns, id) of a cursor from `encode_cursor`; TraceQueryError when malformed."""
    match = _CURSOR.match(cursor.strip())
    if not match:
        raise TraceQueryError(f"cursor {cursor!r} is not START_NS.ID as a page gave it")
    return int(match.group(1)), int(match.group(2))
