"""The simulator's streamed answers: OpenAI-style SSE chunks, cut short when a fault says so."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any

from promptyard.models.simulator.choices import SimChoice
from promptyard.models.simulator.faults import Faults
from promptyard.models.simulator.logprobs import logprobs_for


def _parts(text: str) -> list[str]:
    """`text` in up to 8 pieces of whole words (the stream's content deltas)."""
    pieces = re.findall(r"\S+\s*", text) or [text]
    groups = max(1, min(8, len(pieces)))
    per = -(-len(pieces) // groups)
    return ["".join(pieces[i : i + per]) for i in range(0, len(pieces), per)]


def _deltas(choice: SimChoice, top: int) -> list[dict[str, Any]]:
    """The `choices[0]` entries (without finish) that stream one choice."""
    if choice.tool_calls:
        out = []
        for k, call in enumerate(choice.tool_calls):
            head = {**call, "index": k, "function": {**call["function"], "arguments": ""}}
            out.append({"delta": {"tool_calls": [head]}})
            for piece in _parts(call["function"]["arguments"]):
                args = {"index": k, "function": {"arguments": piece}}
                out.append({"delta": {"tool_calls": [args]}})
        return out
    out = []
    for piece in _parts(choice.text or ""):
        entry: dict[str, Any] = {"delta": {"content": piece}}
        if choice.logprobs is not None:
            entry["logprobs"] = logprobs_for(piece, top)
        out.append(entry)
    return out


async def stream_answer(
    request: Any,
    faults: Faults,
    body: dict[str, Any],
    ids: tuple[str, int, str],
    answer: tuple[list[SimChoice], dict[str, int]],
    timing: tuple[float, float],
    on_complete: Callable[[], None],
) -> Any:
    """Send `answer` (the choices and usage) as SSE chunks, faults permitting.

    `ids` is (completion id, created, model); `timing` is (latency, first-byte delay) in
    seconds. `on_complete` is called once the whole stream, `[DONE]` included, is sent.
    """
    from aiohttp import web

    cid, created, model = ids
    choices, usage = answer
    latency, first_byte = timing
    top = int(body.get("top_logprobs") or 0)

    # time to first token: a third of the latency, plus any slow-first-byte fault
    await asyncio.sleep(latency / 3 + first_byte)
    resp = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await resp.prepare(request)

    def chunk(index: int, entry: dict[str, Any], finish_reason: str | None = None) -> bytes:
        payload = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": "promptyard-simulator",
            "choices": [
                {"index": index, "logprobs": None, **entry, "finish_reason": finish_reason}
            ],
        }
        return f"data: {json.dumps(payload)}\n\n".encode()

    per_choice = [_deltas(c, top) for c in choices]
    steps = sum(len(d) for d in per_choice)
    step = (latency * 2 / 3) / max(1, steps)
    f = faults
    sent = 0
    for choice, deltas in zip(choices, per_choice, strict=True):
        first = {"role": "assistant", "content": "" if choice.text is not None else None}
        await resp.write(chunk(choice.index, {"delta": first}))
        for entry in deltas:
            if f.malformed_json and sent == steps // 2:
                await resp.write(b'data: {"id": "' + cid.encode() + b'", "choices": [{\n\n')
                await resp.write_eof()
                return resp
            if f.truncated_stream and sent == max(1, steps // 2):
                await resp.write_eof()  # ends without finish_reason and without [DONE]
                return resp
            await resp.write(chunk(choice.index, entry))
            sent += 1
            if step:
                await asyncio.sleep(step)
        await resp.write(chunk(choice.index, {"delta": {}}, choice.finish_reason))
    opts = body.get("stream_options") or {}
    if usage and isinstance(opts, dict) and opts.get("include_usage"):
        tail = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": "promptyard-simulator",
            "choices": [],
            "usage": usage,
        }
        await resp.write(f"data: {json.dumps(tail)}\n\n".encode())
    await resp.write(b"data: [DONE]\n\n")
    await resp.write_eof()
    on_complete()
    return resp
