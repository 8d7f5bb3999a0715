"""End users' feedback on traces: `promptyard.feedback(...)` to the collector's
/v1/feedback, checked against the rating schemes of ratings.yaml and the stored traces."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

import promptyard
from promptyard.storage import db
from promptyard.traces import CollectorHandle, FeedbackError, start_collector
from promptyard.workspace import Workspace

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"


@pytest.fixture
def collector(workspace: Workspace) -> Iterator[CollectorHandle]:
    handle = start_collector(workspace)
    body = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": TRACE,
                                "spanId": SPAN,
                                "name": "chat",
                                "startTimeUnixNano": "1",
                                "endTimeUnixNano": "2",
                            }
                        ]
                    }
                ]
            }
        ]
    }
    request = urllib.request.Request(
        f"{handle.url}/v1/traces",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).close()
    yield handle
    handle.stop()


def stored(ws: Workspace) -> list[dict[str, Any]]:
    with db.get_engine(ws).connect() as conn:
        rows = conn.execute(text("SELECT * FROM trace_feedback ORDER BY id"))
        return [dict(r._mapping) for r in rows]


def test_feedback_of_each_scheme_kind_is_stored_on_its_trace(
    workspace: Workspace, collector: CollectorHandle
) -> None:
    url = collector.url
    thumbs = promptyard.feedback(trace_id=TRACE, name="thumbs", value=True, endpoint=url)
    assert thumbs["trace_id"] == TRACE and thumbs["value"] is True
    promptyard.feedback(TRACE, "quality", 4, comment="Good, a bit long", endpoint=url)
    promptyard.feedback(span_id=SPAN, name="issues", value=["too long"], endpoint=url)
    rows = stored(workspace)
    assert [(r["name"], r["value"], r["value_text"]) for r in rows] == [
        ("thumbs", 1.0, None),
        ("quality", 4.0, None),
        ("issues", None, '["too long"]'),
    ]
    assert rows[1]["comment"] == "Good, a bit long"
    assert rows[2]["trace_id"] == TRACE and rows[2]["span_id"] == SPAN  # found by span id
    assert {r["source"] for r in rows} == {"end_user"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"trace_id": TRACE, "name": "stars", "value": 5}, "unknown rating scheme 'stars'"),
        ({"trace_id": TRACE, "name": "quality", "value": 9}, "out of range 1 to 5"),
        ({"trace_id": TRACE, "name": "issues", "value": ["rude"]}, "rude"),
        ({"trace_id": "ab" * 16, "name": "thumbs", "value": True}, "no stored trace"),
        ({"trace_id": "not-hex", "name": "thumbs", "value": True}, "32 hex digits"),
        ({"span_id": "ab" * 8, "name": "thumbs", "value": True}, "no stored span"),
        ({"name": "thumbs", "value": True}, "give 'trace_id' or 'span_id'"),
    ],
)
def test_refused_feedback_names_the_problem_and_stores_nothing(
    workspace: Workspace, collector: CollectorHandle, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(FeedbackError, match="feedback refused") as caught:
        promptyard.feedback(**kwargs, endpoint=collector.url)
    assert message in str(caught.value)
    assert stored(workspace) == []


def test_a_comment_is_scrubbed_of_keys(workspace: Workspace, collector: CollectorHandle) -> None:
    key = "sk-" + "abcDEF123456" * 2
    promptyard.feedback(TRACE, "thumbs", False, comment=f"it printed {key}", endpoint=collector.url)
    assert stored(workspace)[0]["comment"] == "it printed ***"


def test_no_collector_is_one_clear_error() -> None:
    with pytest.raises(FeedbackError, match="cannot reach the collector at http://127.0.0.1:9/"):
        promptyard.feedback(TRACE, "thumbs", True, endpoint="http://127.0.0.1:9")


def test_feedback_imports_nothing_heavy() -> None:
    code = (
        "import sys, promptyard; promptyard.feedback\n"
        "print([m for m in ('sqlalchemy', 'sqlmodel', 'litellm', 'openai', 'aiohttp', 'git')"
        " if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
