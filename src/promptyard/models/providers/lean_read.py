"""Reading an OpenAI chat answer on the lean path: a JSON body, or a stream of server-sent
events (text and tool-call deltas, usage in the last chunk, `[DONE]`), into a `Completion`.

The answer is read as plain dicts, the shape the `openai` SDK validates into its
`ChatCompletion` and `ChatCompletionChunk` types (tests check it against the SDK); the
raw response kept with the cell is that dict.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

from promptyard.models.providers.base import Completion, ErrorKind, ModelCall
from promptyard.models.providers.completions import (
    _add_tool_deltas,
    failure,
    stream_end,
    success,
    tool_calls_of,
)
from promptyard.models.providers.http_errors import stream_error
from promptyard.models.providers.http_pool import CallTiming


def _latency(timing: CallTiming, at: float, started: float) -> float:
    wire = timing.since_sent_ms(at)
    return wire if wire is not None else (at - started) * 1000


def read_answer(call: ModelCall, key: str | None, data: Any, latency: float) -> Completion:
    """The completion of a JSON answer that took `latency` ms on the wire."""
    if not isinstance(data, dict):
        return failure(
            call, ErrorKind.INVALID_RESPONSE, "the response is not a JSON object", latency, key
        )
    choices = data.get("choices") or []
    if not choices or not isinstance(choices[0], dict):
        return failure(
            call, ErrorKind.INVALID_RESPONSE, "the response has no choices", latency, key
        )
    choice = choices[0]
    message = choice.get("message") or {}
    return success(
        call,
        message.get("content"),
        choice.get("finish_reason"),
        data.get("usage"),
        latency,
        None,
        data,
        tool_calls_of(message),
    )


class _StreamState:
    """What a stream has said so far."""

    __slots__ = ("finish", "usage", "last", "calls", "ttft", "done")

    def __init__(self) -> None:
        self.finish: str | None = None
        self.usage: Any = None
        self.last: dict[str, Any] | None = None
        self.calls: dict[int, dict[str, Any]] = {}
        self.ttft: float | None = None
        self.done = False


async def read_stream(
    call: ModelCall,
    key: str | None,
    response: Any,
    timing: CallTiming,
    parts: list[str],
    on_delta: Callable[[str], None] | None,
) -> Completion:
    """The completion of a streamed answer; its text pieces go to `parts` (kept by the
    caller for a timeout) and to `on_delta`. A stream that ends without a `finish_reason`
    is an `invalid_response` that keeps the partial text."""
    state = _StreamState()
    started = time.perf_counter()
    pending = b""
    data_lines: list[bytes] = []
    async for chunk in response.content.iter_any():
        if state.done:
            continue  # read to the end, so the connection goes back to the pool
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        for line in lines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if line.startswith(b"data:"):
                data_lines.append(line[6:] if line[5:6] == b" " else line[5:])
            elif not line and data_lines:
                _event(b"\n".join(data_lines), state, timing, started, parts, on_delta)
                data_lines = []
                if state.done:
                    break
    if not state.done and pending.startswith(b"data:"):
        data_lines.append(pending[5:].lstrip(b" "))
    if not state.done and data_lines:
        _event(b"\n".join(data_lines), state, timing, started, parts, on_delta)
    latency = _latency(timing, time.perf_counter(), started)
    return stream_end(
        call, key, parts, state.calls, state.finish, state.usage, latency, state.ttft, state.last
    )


def _event(
    payload: bytes,
    state: _StreamState,
    timing: CallTiming,
    started: float,
    parts: list[str],
    on_delta: Callable[[str], None] | None,
) -> None:
    if payload == b"[DONE]":
        state.done = True
        return
    chunk = orjson.loads(payload)
    if not isinstance(chunk, dict):
        raise ValueError("a stream event is not a JSON object")
    if chunk.get("error"):
        raise stream_error(chunk)
    choices = chunk.get("choices")
    if choices:
        choice = choices[0]
        delta = choice.get("delta")
        if delta:
            if delta.get("tool_calls"):
                _add_tool_deltas(state.calls, delta)
            piece = delta.get("content")
            if piece:
                if state.ttft is None:
                    state.ttft = _latency(timing, time.perf_counter(), started)
                parts.append(piece)
                if on_delta is not None:
                    on_delta(piece)
        state.finish = choice.get("finish_reason") or state.finish
    state.usage = chunk.get("usage") or state.usage
    state.last = chunk
