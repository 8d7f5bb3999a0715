"""The simulator's streamed answers: OpenAI-style SSE chunks, cut short when a fault says so."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any

from promptyard.models.simulator.faults import Faults


async def stream_answer(
    request: Any,
    faults: Faults,
    body: dict[str, Any],
    ids: tuple[str, int, str],
    answer: tuple[str, str, dict[str, int]],
    timing: tuple[float, float],
    on_complete: Callable[[], None],
) -> Any:
    """Send `answer` (text, finish reason, usage) as SSE chunks, faults permitting.

    `ids` is (completion id, created, model); `timing` is (latency, first-byte delay) in
    seconds. `on_complete` is called once the whole stream, `[DONE]` included, is sent.
    """
    from aiohttp import web

    cid, created, model = ids
    text, finish, usage = answer
    latency, first_byte = timing

    # time to first token: a third of the latency, plus any slow-first-byte fault
    await asyncio.sleep(latency / 3 + first_byte)
    resp = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await resp.prepare(request)

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        payload = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }
        return f"data: {json.dumps(payload)}\n\n".encode()

    pieces = re.findall(r"\S+\s*", text) or [text]
    groups = max(1, min(8, len(pieces)))
    per = -(-len(pieces) // groups)
    parts = ["".join(pieces[i : i + per]) for i in range(0, len(pieces), per)]
    step = (latency * 2 / 3) / max(1, len(parts))
    await resp.write(chunk({"role": "assistant", "content": ""}))
    f = faults
    for i, part in enumerate(parts):
        if f.malformed_json and i == len(parts) // 2:
            await resp.write(b'data: {"id": "' + cid.encode() + b'", "choices": [{\n\n')
            await resp.write_eof()
            return resp
        if f.truncated_stream and i == max(1, len(parts) // 2):
            await resp.write_eof()  # ends without finish_reason and without [DONE]
            return resp
        await resp.write(chunk({"content": part}))
        if step:
            await asyncio.sleep(step)
    await resp.write(chunk({}, finish))
    opts = body.get("stream_options") or {}
    if usage and isinstance(opts, dict) and opts.get("include_usage"):
        tail = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [],
            "usage": usage,
        }
        await resp.write(f"data: {json.dumps(tail)}\n\n".encode())
    await resp.write(b"data: [DONE]\n\n")
    await resp.write_eof()
    on_complete()
    return resp
