"""A cell stores only the part of the raw response no other column holds; the trace view
shows the whole response again (output, tool calls, finish reason, token counts)."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import select

from promptyard import runs
from promptyard.models import SimulatorHandle
from promptyard.reading import cell_trace
from promptyard.storage import db
from promptyard.storage.raw_response import compact_raw, full_raw
from promptyard.storage.tables import Cell


def test_the_trace_shows_the_whole_response_the_cell_stores_the_rest(
    workspace: Any, sim: SimulatorHandle
) -> None:
    plan = runs.plan_run(
        workspace, [("summarize", None)], ["sim-fast"], ("summaries", None), slice="head:3"
    )
    run_id = runs.create_run(workspace, plan)
    runs.run_sync(workspace, run_id)
    with db.session(workspace) as s:
        cells = list(s.execute(select(Cell).where(Cell.run_id == run_id)).scalars())
    for cell in cells:
        stored = cell.raw_response_json or ""
        assert cell.output and cell.output not in stored  # the output is stored once
        assert '"prompt_tokens":' not in stored and '"finish_reason":' not in stored
        assert "null," not in stored.replace('"content":null', "")  # no SDK nulls
        raw = cell_trace(workspace, int(cell.id or 0)).raw_response
        assert raw["choices"][0]["message"]["content"] == cell.output
        assert raw["choices"][0]["finish_reason"] == cell.finish_reason == "stop"
        assert raw["usage"]["prompt_tokens"] == cell.prompt_tokens
        assert raw["usage"]["completion_tokens"] == cell.completion_tokens
        assert raw["usage"]["total_tokens"] == cell.prompt_tokens + cell.completion_tokens
        assert raw["model"] == "sim-fast" and raw["id"].startswith("chatcmpl-")


def test_compact_then_full_gives_back_every_value() -> None:
    calls = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    raw = {
        "id": "x",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "logprobs": None,
                "message": {"role": "assistant", "content": "hi", "tool_calls": calls},
            }
        ],
        "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10, "x": 1},
    }
    kept = compact_raw(
        raw, text="hi", tool_calls=calls, finish_reason="tool_calls", prompt_tokens=7,
        completion_tokens=3,
    )  # fmt: skip
    stored = json.dumps(kept)
    assert "arguments" not in stored and "total_tokens" not in stored and "hi" not in stored
    back = full_raw(
        stored, output="hi", output_truncated=False, tool_calls_json=json.dumps(calls),
        finish_reason="tool_calls", prompt_tokens=7, completion_tokens=3,
    )  # fmt: skip
    expected = json.loads(json.dumps(raw))
    del expected["choices"][0]["logprobs"]  # a null field reads as absent
    assert back == expected
    # Counts that disagree with the columns are kept as sent.
    odd = compact_raw(
        raw, text="hi", tool_calls=None, finish_reason=None, prompt_tokens=8, completion_tokens=3
    )
    assert odd is not None and odd["usage"]["prompt_tokens"] == 7


def test_an_older_row_without_its_content_gets_it_back() -> None:
    legacy = json.dumps(
        {
            "choices": [{"message": {"content": None, "role": "assistant"}}],
            "promptyard_output": "the content of choices[0].message is the cell's output",
        }
    )
    back = full_raw(
        legacy, output="the answer", output_truncated=False, tool_calls_json=None,
        finish_reason=None, prompt_tokens=None, completion_tokens=None,
    )  # fmt: skip
    assert back == {"choices": [{"message": {"content": "the answer", "role": "assistant"}}]}
    assert full_raw("not json", output=None, output_truncated=False, tool_calls_json=None,
                    finish_reason=None, prompt_tokens=None, completion_tokens=None) == "not json"  # fmt: skip


def test_the_stored_remainder_reads_back_as_json_would_have_written_it() -> None:
    """Whatever a provider puts in its response (text in any script, an id past 64 bits, a
    value JSON has no type for), the stored remainder reads back as `json.dumps(...,
    default=str)` would have stored it."""
    from datetime import UTC, datetime

    from promptyard.models import Completion
    from promptyard.runs.records import CellTodo, cell_update

    extras: list[dict[str, Any]] = [
        {"system_fingerprint": "fp_é漢字🙂", "seed": 2**70},
        {"created_at": datetime(2026, 12, 2, 5, 30, tzinfo=UTC), "ratio": 1e-7},
        {"by_index": {1: "a key that is a number"}, "flags": [True, None, 0.5]},
    ]
    for extra in extras:
        raw = {"id": "chatcmpl-1", "object": "chat.completion", **extra}
        done = Completion(
            text="hi", finish_reason="stop", prompt_tokens=1, completion_tokens=1,
            cost_usd=None, latency_ms=1.0, raw=raw,
        )  # fmt: skip
        row = cell_update(CellTodo(1, 1, 0, "[]"), done, 1, datetime.now(UTC))
        want = json.loads(json.dumps({k: v for k, v in raw.items() if k != "object"}, default=str))
        got = json.loads(row["raw_response_json"])
        got.pop("~", None)  # what was taken out, for `full_raw`
        assert got == want
