"""End users' feedback on traces: `feedback(...)` sends it, `record_feedback` stores it.

`promptyard.feedback(trace_id=..., name="thumbs", value=True)` POSTs to the collector's
`/v1/feedback` with urllib (no heavy imports: an app calls it on every click). The
collector checks the scheme and value against ratings.yaml and that the trace is stored.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from promptyard.errors import PromptyardError

if TYPE_CHECKING:
    from promptyard.workspace import Workspace

COLLECTOR_URL_ENV = "PROMPTYARD_COLLECTOR_URL"
COLLECTOR_PORT_ENV = "PROMPTYARD_COLLECTOR_PORT"
COMMENT_MAX_LENGTH = 4000
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
_SPAN_ID = re.compile(r"^[0-9a-f]{16}$")


class FeedbackError(PromptyardError):
    """Feedback that cannot be recorded; the message names the field and the problem."""


def collector_url() -> str:
    """The collector's base URL: $PROMPTYARD_COLLECTOR_URL, else 127.0.0.1 on
    $PROMPTYARD_COLLECTOR_PORT (default 4318)."""
    url = os.environ.get(COLLECTOR_URL_ENV)
    if url:
        return url.rstrip("/")
    return f"http://127.0.0.1:{os.environ.get(COLLECTOR_PORT_ENV) or 4318}"


def feedback(
    trace_id: str | None = None,
    name: str = "",
    value: Any = None,
    comment: str | None = None,
    *,
    span_id: str | None = None,
    endpoint: str | None = None,
    timeout: float = 5.0,
) -> dict[str, Any]:
    """Send an end user's score of a trace (or of one span) to the collector.

    `name` is a rating scheme of ratings.yaml, `value` a value it accepts (a number in
    range, true/false, a label). Returns what the collector stored ({"id", "trace_id",
    ...}); FeedbackError says what the collector refused, or that it cannot be reached.
    """
    url = (endpoint or collector_url()).rstrip("/")
    if not url.endswith("/v1/feedback"):
        url += "/v1/feedback"
    body = {"trace_id": trace_id, "span_id": span_id, "name": name, "value": value}
    if comment is not None:
        body["comment"] = comment
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer: dict[str, Any] = json.loads(response.read() or b"{}")
            return answer
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("message") or exc.reason
        except ValueError:
            message = exc.reason
        raise FeedbackError(f"feedback refused by {url}: {message}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FeedbackError(
            f"cannot reach the collector at {url} ({reason}); is `promptyard collect` running?"
        ) from None


def _ids(payload: dict[str, Any]) -> tuple[str | None, str | None]:
    trace_id, span_id = payload.get("trace_id"), payload.get("span_id")
    if trace_id in (None, "") and span_id in (None, ""):
        raise FeedbackError("give 'trace_id' or 'span_id' (hex ids of the trace to score)")
    if trace_id not in (None, "") and (
        not isinstance(trace_id, str) or not _TRACE_ID.fullmatch(trace_id.lower())
    ):
        raise FeedbackError(f"'trace_id' must be 32 hex digits, got {trace_id!r}"[:200])
    if span_id not in (None, "") and (
        not isinstance(span_id, str) or not _SPAN_ID.fullmatch(span_id.lower())
    ):
        raise FeedbackError(f"'span_id' must be 16 hex digits, got {span_id!r}"[:200])
    return (trace_id.lower() if trace_id else None), (span_id.lower() if span_id else None)


def record_feedback(ws: Workspace, payload: Any) -> dict[str, Any]:
    """Validate one feedback payload and store it as a TraceFeedback row.

    Returns {"id", "trace_id", "span_id", "name", "value"}; FeedbackError names the
    problem (unknown scheme, value out of range, unknown trace) and nothing is stored.
    """
    # Imported here: `feedback()` above must stay light for apps that only send.
    from sqlalchemy import text
    from sqlmodel import Session

    from promptyard.ratings import RatingError, RatingKind, get_scheme
    from promptyard.storage import TraceFeedback, db
    from promptyard.traces.scrub import request_secrets, scrub_text

    if not isinstance(payload, dict):
        raise FeedbackError("the body must be a JSON object with trace_id, name and value")
    unknown = sorted(set(payload) - {"trace_id", "span_id", "name", "value", "comment"})
    if unknown:
        raise FeedbackError(
            f"unknown field {unknown[0]!r} (fields: trace_id, span_id, name, value, comment)"
        )
    trace_id, span_id = _ids(payload)
    name = payload.get("name")
    if not isinstance(name, str) or not name:
        raise FeedbackError("'name' must be a rating scheme name from ratings.yaml")
    try:
        scheme = get_scheme(ws, name)
        value = scheme.validate_value(payload.get("value"))
    except RatingError as exc:
        raise FeedbackError(str(exc)) from None
    comment = payload.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise FeedbackError("'comment' must be text")
    if comment and len(comment) > COMMENT_MAX_LENGTH:
        raise FeedbackError(f"'comment' is over {COMMENT_MAX_LENGTH} characters")
    numeric = scheme.kind in (RatingKind.NUMERIC, RatingKind.BOOLEAN)
    row = TraceFeedback(
        trace_id=trace_id or "",
        span_id=span_id,
        name=scheme.name,
        value=float(value) if numeric else None,
        value_text=None if numeric else (value if isinstance(value, str) else json.dumps(value)),
        comment=scrub_text(comment, request_secrets()) if comment else None,
    )

    def insert(s: Session) -> dict[str, Any]:
        conn = s.connection()
        if span_id:
            found = conn.execute(
                text(
                    "SELECT trace_id FROM span WHERE span_id = :s"
                    + (" AND trace_id = :t" if trace_id else "")
                    + " LIMIT 1"
                ),
                {"s": span_id, "t": trace_id},
            ).first()
            if found is None:
                raise FeedbackError(f"no stored span with span_id {span_id!r}")
            row.trace_id = found[0]
        else:
            found = conn.execute(
                text("SELECT 1 FROM span WHERE trace_id = :t LIMIT 1"), {"t": trace_id}
            ).first()
            if found is None:
                raise FeedbackError(
                    f"no stored trace with trace_id {trace_id!r} (spans arrive when the app's "
                    "exporter flushes them)"
                )
        s.add(row)
        s.flush()
        return {
            "id": row.id,
            "trace_id": row.trace_id,
            "span_id": row.span_id,
            "name": row.name,
            "value": value,
        }

    return db.write(ws, insert)
