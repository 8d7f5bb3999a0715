"""Store decoded spans: one transaction and one executemany per OTLP request.

`Ingestor(ws).store(spans)` maps each span (traces.semconv), lets a span without prompt,
user or session attributes inherit them from its parent chain in the trace, prices its
tokens with the runs' price map (unknown stays NULL), marks the prompt link, and inserts
every row at once; a re-sent span (same trace and span id) is ignored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from promptyard.errors import PromptyardError
from promptyard.models import SIMULATED_MODELS, estimate_cost, resolve_model, simulated_endpoint
from promptyard.prompts import prompt_labels, prompt_versions
from promptyard.storage import PromptLink, Span, db, utcnow
from promptyard.traces.otlp import RawSpan
from promptyard.traces.scrub import request_secrets
from promptyard.traces.semconv import CONTEXT_COLUMNS, map_span, resource_json
from promptyard.workspace import Workspace

logger = logging.getLogger(__name__)

CACHE_SECONDS = 30.0  # how long a prompt's versions and a model's price are reused
# Every column but the key, in table order: the rows map_span makes have exactly these.
_COLUMNS = [c.name for c in Span.__table__.columns if c.name != "id"]  # type: ignore[attr-defined]
_ON_CONFLICT = " ON CONFLICT (trace_id, span_id) DO NOTHING"


def _insert_sql(paramstyle: str) -> str:
    """The span INSERT in the driver's own parameter style: rows go to the driver's
    executemany as tuples, without SQLAlchemy building a dict per row."""
    marks = {"qmark": "?", "format": "%s", "pyformat": "%s", "numeric": ":{}", "named": ":{}"}
    mark = marks.get(paramstyle, "?")
    values = ", ".join(mark.format(i + 1) if "{}" in mark else mark for i in range(len(_COLUMNS)))
    if paramstyle == "named":
        values = ", ".join(f":{c}" for c in _COLUMNS)
    return f"INSERT INTO span ({', '.join(_COLUMNS)}) VALUES ({values}){_ON_CONFLICT}"


# A child stored before its parent came: it takes the parent's user and session where it
# has none, and the parent's prompt when it has no prompt attributes of its own (no link).
_PROMPT_COLUMNS = (*(c for c in CONTEXT_COLUMNS if c.startswith("prompt_")), "prompt_link")
_CHILDREN_INHERIT = text(
    "UPDATE span SET "
    + ", ".join(
        f"{c} = CASE WHEN prompt_link IS NULL THEN :{c} ELSE {c} END" for c in _PROMPT_COLUMNS
    )
    + ", user_id = COALESCE(user_id, :user_id), session_id = COALESCE(session_id, :session_id)"
    + " WHERE trace_id = :trace_id AND parent_span_id = :span_id"
)


class _TtlCache:
    """A small per-process memo whose entries expire, so workspace edits are seen."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._items: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(key)
            if hit and now - hit[0] < self.seconds:
                return hit[1]
        value = make()
        with self._lock:
            self._items[key] = (now, value)
        return value


class Ingestor:
    """Stores OTLP spans into one workspace's database (see the module docstring)."""

    def __init__(self, ws: Workspace, cache_seconds: float = CACHE_SECONDS) -> None:
        self.ws = ws
        self._prompts = _TtlCache(cache_seconds)
        self._prices = _TtlCache(cache_seconds)

    # -- prompt links and prices ---------------------------------------------------------

    def _prompt_facts(self, name: str) -> tuple[dict[int, str], set[str]]:
        try:
            versions = prompt_versions(name, self.ws)
            labels = set(prompt_labels(name, self.ws)) if versions else set()
        except (PromptyardError, OSError, ValueError):
            return {}, set()
        return {v.number: v.sha for v in versions if not v.deleted}, labels

    def prompt_link(self, row: dict[str, Any]) -> str | None:
        """'linked' when the span's prompt (and version, sha, label) is in the workspace,
        'unknown' when it names one that is not, None without prompt attributes."""
        name = row.get("prompt_name")
        if not name and not any(row.get(c) for c in CONTEXT_COLUMNS[1:5]):
            return None
        if not name:
            return PromptLink.UNKNOWN
        versions, labels = self._prompts.get(name, lambda: self._prompt_facts(name))
        if not versions:
            return PromptLink.UNKNOWN
        number, sha, label = (
            row.get("prompt_version"),
            row.get("prompt_sha"),
            row.get("prompt_label"),
        )
        if number is not None and number not in versions:
            return PromptLink.UNKNOWN
        if sha:
            candidates = [versions[number]] if number is not None else list(versions.values())
            if not any(full.startswith(sha) for full in candidates):
                return PromptLink.UNKNOWN
        if label and number is None and not sha and label not in labels:
            return PromptLink.UNKNOWN
        return PromptLink.LINKED

    def _endpoint_price(self, model: str, system: str | None) -> Any:
        bare = model.split("/", 1)[-1]
        names = [model] if model not in SIMULATED_MODELS and bare in SIMULATED_MODELS else []
        for candidate in (model, f"{system}/{model}" if system and "/" not in model else None):
            if candidate:
                names.append(candidate)
        if bare in SIMULATED_MODELS:
            return simulated_endpoint(bare)
        for candidate in names:
            try:
                return resolve_model(self.ws, candidate)
            except (PromptyardError, OSError, ValueError):
                continue
        return None

    def cost(self, row: dict[str, Any]) -> float | None:
        """USD for the span's tokens at the price map's price of its model; None if unknown."""
        model = row.get("response_model") or row.get("request_model")
        if not model or row.get("input_tokens") is None:
            return None
        system = row.get("system")
        endpoint = self._prices.get(
            (model, system), lambda: self._endpoint_price(str(model), system)
        )
        if endpoint is None:
            return None
        output = row.get("output_tokens")
        if output is None and row.get("operation") == "embeddings":
            output = 0  # an embedding has no output tokens; a chat without a count is unknown
        return estimate_cost(endpoint, row["input_tokens"], output)

    # -- storing -------------------------------------------------------------------------

    def rows(self, spans: list[RawSpan]) -> list[dict[str, Any]]:
        """The `span` rows of one request, context inherited within it, priced and linked."""
        secrets = request_secrets()
        # The spans of one resource share its attributes dict (traces.otlp): scrub it once.
        resources: dict[int, str | None] = {}
        for span in spans:
            if id(span.resource) not in resources:
                resources[id(span.resource)] = resource_json(span.resource, secrets)
        rows = [map_span(s, secrets, resources[id(s.resource)]) for s in spans]
        by_id = {(r["trace_id"], r["span_id"]): r for r in rows}
        for row in rows:
            _inherit_in_request(row, by_id)
        now = utcnow().replace(tzinfo=None)
        for row in rows:
            row["cost_usd"] = self.cost(row) if row["is_llm"] else None
            row["prompt_link"] = self.prompt_link(row)
            row["received_at"] = now
        return rows

    def store(self, spans: list[RawSpan]) -> int:
        """Insert the spans of one request in one transaction; the number of spans given."""
        if not spans:
            return 0
        rows = self.rows(spans)

        def insert(s: Session) -> None:
            conn = s.connection()
            _inherit_from_stored(conn, rows, self)
            sql = _insert_sql(conn.dialect.paramstyle)
            if conn.dialect.name == "sqlite":
                # As SQLAlchemy stores a DateTime there (sqlite3's own adapter is deprecated).
                stamp = rows[0]["received_at"].isoformat(" ")
                for r in rows:
                    r["received_at"] = stamp
            if conn.dialect.paramstyle == "named":
                conn.exec_driver_sql(sql, [{c: r[c] for c in _COLUMNS} for r in rows])
            else:
                conn.exec_driver_sql(sql, [tuple(r[c] for c in _COLUMNS) for r in rows])
            carriers = [r for r in rows if any(r[c] is not None for c in CONTEXT_COLUMNS)]
            if carriers:
                conn.execute(_CHILDREN_INHERIT, [_context(r) for r in carriers])

        db.write(self.ws, insert)
        return len(rows)


def _context(row: dict[str, Any]) -> dict[str, Any]:
    keys = (*CONTEXT_COLUMNS, "prompt_link", "trace_id", "span_id")
    return {c: row[c] for c in keys}


def _needs_context(row: dict[str, Any]) -> bool:
    return row["prompt_name"] is None or row["user_id"] is None or row["session_id"] is None


def _fill(row: dict[str, Any], source: dict[str, Any]) -> None:
    has_prompt = row["prompt_name"] is not None
    for column in CONTEXT_COLUMNS:
        if column.startswith("prompt_") and has_prompt:
            continue
        if row[column] is None and source.get(column) is not None:
            row[column] = source[column]


def _inherit_in_request(row: dict[str, Any], by_id: dict[tuple[str, str], dict[str, Any]]) -> None:
    parent_id, depth = row["parent_span_id"], 0
    while parent_id and _needs_context(row) and depth < 64:
        parent = by_id.get((row["trace_id"], parent_id))
        if parent is None:
            row["_outside_parent"] = parent_id
            return
        _fill(row, parent)
        parent_id, depth = parent["parent_span_id"], depth + 1


def _inherit_from_stored(conn: Any, rows: list[dict[str, Any]], ingestor: Ingestor) -> None:
    """Spans whose parent came in an earlier request take its prompt, user and session."""
    waiting = [r for r in rows if r.pop("_outside_parent", None) and _needs_context(r)]
    if not waiting:
        return
    select = text(
        f"SELECT {', '.join(CONTEXT_COLUMNS)} FROM span WHERE trace_id = :t AND span_id = :s"
    )
    for row in waiting:
        found = conn.execute(select, {"t": row["trace_id"], "s": row["parent_span_id"]}).first()
        if found is not None:
            _fill(row, dict(found._mapping))
            row["prompt_link"] = ingestor.prompt_link(row)
    for row in rows:
        row.pop("_outside_parent", None)
