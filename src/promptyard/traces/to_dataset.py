"""Production traces into a dataset: how edge cases seen live become regression tests.

Each selected LLM span becomes one row: its prompt variables (`promptyard.prompt.variables`)
are the columns, its `trace_id` is kept beside them, and with `reference_from_output` the
answer given in production becomes the reference column. The rows are saved as a new
version through the datasets part (one commit, like any dataset edit).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from promptyard import datasets
from promptyard.datasets import ID, DatasetVersion
from promptyard.errors import NotFoundError, PromptyardError
from promptyard.storage import db
from promptyard.traces.filtering import MAX_IDS, SpanFilters, TraceQueryError
from promptyard.traces.queries import list_spans
from promptyard.workspace import Workspace, validate_name

MAX_ROWS = 1_000
"""The most spans one call turns into rows."""
REFERENCE = "reference"
TRACE_COLUMN = "trace_id"


@dataclass(frozen=True)
class TracesAdded:
    """What `traces_to_dataset` did: the new version, how many rows it added, and why the
    other selected spans were left out."""

    version: DatasetVersion
    added: int
    created: bool
    already_present: int
    without_variables: int
    columns: list[str]
    reference: str | None

    def summary(self) -> str:
        """`Added 3 traces to faq v2 (new dataset); 1 already there` and the like."""
        what = "new dataset" if self.created else "appended"
        parts = [
            f"Added {self.added} trace{'s' if self.added != 1 else ''} to "
            f"{self.version.name} {self.version.ref} ({what})"
        ]
        if self.already_present:
            parts.append(f"{self.already_present} already there")
        if self.without_variables:
            parts.append(f"{self.without_variables} without prompt variables left out")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.version.to_dict(),
            "added": self.added,
            "created": self.created,
            "already_present": self.already_present,
            "without_variables": self.without_variables,
            "columns": self.columns,
            "reference": self.reference,
        }


def row_id(trace_id: str, span_id: str) -> str:
    """The dataset row id of a span: stable, so adding the same trace twice adds it once."""
    # Hashed: some tracers put a timestamp first, so a prefix of the ids would collide.
    digest = hashlib.sha256(f"{trace_id}/{span_id}".encode()).hexdigest()
    return f"trace-{digest[:16]}"


_COLUMNS = "id, trace_id, span_id, start_ns, prompt_variables_json, output_text"


def _spans_by_id(ws: Workspace, span_ids: Sequence[int]) -> list[Any]:
    ids = sorted({int(i) for i in span_ids})
    if len(ids) > MAX_IDS:
        raise TraceQueryError(f"{len(ids)} spans selected; at most {MAX_IDS} at once")
    params = {f"i{n}": i for n, i in enumerate(ids)}
    names = ", ".join(f":{k}" for k in params)
    with db.session(ws) as s:
        rows = (
            s.connection()
            .execute(
                text(f"SELECT {_COLUMNS} FROM span WHERE id IN ({names}) ORDER BY start_ns, id"),
                params,
            )
            .all()
        )
    missing = set(ids) - {int(r.id) for r in rows}
    if missing:
        raise NotFoundError(f"no span with id {', '.join(map(str, sorted(missing)))}")
    return list(rows)


def _spans_by_filter(ws: Workspace, filters: SpanFilters, limit: int) -> list[Any]:
    picked: list[int] = []
    cursor: str | None = None
    while len(picked) < limit:
        page = list_spans(ws, filters, cursor, limit=min(500, limit - len(picked)))
        picked.extend(r.id for r in page.spans)
        cursor = page.next_cursor
        if cursor is None:
            break
    return _spans_by_id(ws, picked) if picked else []


def _with_variables(ws: Workspace, rows: list[Any]) -> list[Any]:
    """Each span, or for one without variables (a root span), its trace's first LLM span
    that has them."""
    lacking = sorted({r.trace_id for r in rows if not r.prompt_variables_json})
    substitute: dict[str, Any] = {}
    if lacking:
        params = {f"t{n}": t for n, t in enumerate(lacking)}
        names = ", ".join(f":{k}" for k in params)
        with db.session(ws) as s:
            found = s.connection().execute(
                text(
                    f"SELECT {_COLUMNS} FROM span WHERE trace_id IN ({names})"
                    " AND prompt_variables_json IS NOT NULL ORDER BY start_ns, id"
                ),
                params,
            )
            for r in found:
                substitute.setdefault(r.trace_id, r)
    return [r if r.prompt_variables_json else substitute.get(r.trace_id, r) for r in rows]


def _variables(row: Any) -> dict[str, Any] | None:
    try:
        value = json.loads(row.prompt_variables_json) if row.prompt_variables_json else None
    except ValueError:
        return None
    return value if isinstance(value, dict) and value else None


def traces_to_dataset(
    ws: Workspace,
    name: str,
    *,
    span_ids: Sequence[int] | None = None,
    filters: SpanFilters | None = None,
    reference_from_output: bool = False,
    must_be_new: bool = False,
    limit: int = MAX_ROWS,
    message: str | None = None,
    author: str | None = None,
) -> TracesAdded:
    """Add the spans `span_ids` (database ids from the list), or the newest `limit` spans
    matching `filters`, as rows of dataset `name`: a new dataset, or a new version of an
    existing one with the columns merged. Spans already in it (same row id) are skipped.

    Raises PromptyardError, changing nothing, when the selection is empty, no span has
    prompt variables, or `must_be_new` and the dataset exists.
    """
    validate_name(name, "dataset")
    if not 1 <= limit <= MAX_ROWS:
        raise TraceQueryError(f"limit must be between 1 and {MAX_ROWS}, not {limit}")
    if span_ids is not None and filters is not None:
        raise TraceQueryError("select spans by ids or by filters, not both")
    if span_ids is not None:
        if not span_ids:
            raise TraceQueryError("no spans selected")
        rows = _spans_by_id(ws, span_ids)
    else:
        rows = _spans_by_filter(ws, filters or SpanFilters(), limit)
        if not rows:
            raise TraceQueryError("no span matches the filters")
    exists = name in {info.name for info in datasets.list_datasets(ws)}
    if exists and must_be_new:
        raise PromptyardError(f"a dataset named {name!r} already exists; pick another name")
    current = datasets.load_dataset(ws, name) if exists else None
    reference = (current.reference if current else None) or REFERENCE
    taken = set(current.ids) if current else set()
    new_rows: list[dict[str, Any]] = []
    present = lacking = 0
    for span in _with_variables(ws, rows):
        variables = _variables(span)
        if variables is None:
            lacking += 1
            continue
        rid = row_id(span.trace_id, span.span_id)
        if rid in taken:
            present += 1
            continue
        taken.add(rid)
        row: dict[str, Any] = {ID: rid, **{k: v for k, v in variables.items() if k != ID}}
        row[TRACE_COLUMN] = span.trace_id
        if reference_from_output and span.output_text is not None:
            row[reference] = span.output_text
        new_rows.append(row)
    if not new_rows:
        why = []
        if present:
            why.append(f"{present} already in dataset {name!r}")
        if lacking:
            why.append(f"{lacking} carry no prompt variables (promptyard.prompt.variables)")
        raise PromptyardError("nothing to add: of the selected spans, " + " and ".join(why))
    existing = current.rows if current else []
    base = current.version.sha if current and current.version else None
    what = message or f"Add {len(new_rows)} production trace{'s' if len(new_rows) != 1 else ''}"
    version = datasets.save_dataset(
        ws, name, [*existing, *new_rows], what, base=base, author=author
    )
    columns = datasets.columns_of([*existing, *new_rows])
    marked: str | None = current.reference if current else None
    if reference_from_output and marked != reference and reference in columns:
        marked = datasets.set_reference(ws, name, reference, author=author)
    return TracesAdded(version, len(new_rows), not exists, present, lacking, columns, marked)
