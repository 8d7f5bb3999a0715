"""Turning what a provider answered (or how it failed) into a `Completion`.

Shared by the built-in providers, so an answer reads the same whichever of them made the
call: tokens counted with tiktoken when the provider gave none, the cost from
`pricing.estimate_cost`, error messages scrubbed of secrets.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from promptyard.models.pricing import estimate_cost
from promptyard.models.providers.base import Completion, ErrorKind, ModelCall
from promptyard.models.providers.errors import describe, error_kind, retry_after, scrub
from promptyard.prompts.tokens import count_tokens

log = logging.getLogger(__name__)


def raw_dict(obj: Any) -> dict[str, Any] | None:
    """The provider's response as a plain dict (pydantic models dumped), or None."""
    if obj is None:
        return None
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        try:
            data = dump()
        except Exception:  # a response that cannot be dumped is stored without its raw body
            log.debug("cannot dump the provider's response %r", type(obj), exc_info=True)
            return None
        if isinstance(data, dict):
            data.pop("_hidden_params", None)
            return data
    return None


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def tool_calls_of(message: Any) -> list[dict[str, Any]] | None:
    """The message's tool calls as plain OpenAI-format dicts, or None when it has none."""
    calls = _field(message, "tool_calls") if message is not None else None
    if not calls:
        return None
    out = []
    for call in calls:
        fn = _field(call, "function")
        out.append(
            {
                "id": _field(call, "id"),
                "type": _field(call, "type") or "function",
                "function": {
                    "name": _field(fn, "name"),
                    "arguments": _field(fn, "arguments") or "",
                },
            }
        )
    return out


def _add_tool_deltas(acc: dict[int, dict[str, Any]], delta: Any) -> None:
    """Fold one stream delta's tool-call pieces into `acc` (by index): the id and name
    come once, the arguments in pieces."""
    for piece in _field(delta, "tool_calls") or []:
        index = _field(piece, "index") or 0
        call = acc.setdefault(
            index, {"id": None, "type": "function", "function": {"name": None, "arguments": ""}}
        )
        call["id"] = _field(piece, "id") or call["id"]
        call["type"] = _field(piece, "type") or call["type"]
        fn = _field(piece, "function")
        if fn is not None:
            call["function"]["name"] = _field(fn, "name") or call["function"]["name"]
            call["function"]["arguments"] += _field(fn, "arguments") or ""


def _usage_int(usage: Any, name: str) -> int | None:
    value = getattr(usage, name, None) if usage is not None else None
    if value is None and isinstance(usage, dict):
        value = usage.get(name)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def success(
    call: ModelCall,
    text: str | None,
    finish: str | None,
    usage: Any,
    latency: float,
    ttft: float | None,
    raw: dict[str, Any] | None,
    tool_calls: list[dict[str, Any]] | None = None,
) -> Completion:
    """The completion of an answered call; a filtered answer is a `content_filter` error."""
    prompt_tokens = _usage_int(usage, "prompt_tokens")
    completion_tokens = _usage_int(usage, "completion_tokens")
    estimated = False
    model = call.endpoint.litellm_model
    # no usage, or zeros filled in for a missing usage: count with tiktoken
    if not prompt_tokens:
        prompt_tokens, estimated = count_tokens(call.messages, model), True
    if completion_tokens is None or (completion_tokens == 0 and (text or tool_calls)):
        called = "".join(
            c["function"]["name"] + c["function"]["arguments"] for c in tool_calls or []
        )
        completion_tokens, estimated = count_tokens((text or "") + called, model), True
    filtered = finish == "content_filter"  # answered, but the provider withheld the output
    return Completion(
        text=text,
        finish_reason=finish,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost_usd=estimate_cost(call.endpoint, prompt_tokens, completion_tokens),
        latency_ms=latency,
        ttft_ms=ttft,
        raw=raw,
        tokens_estimated=estimated,
        tool_calls=tool_calls,
        error_kind=ErrorKind.CONTENT_FILTER.value if filtered else None,
        error_message="the provider's content filter withheld the output" if filtered else None,
    )


def raised(
    call: ModelCall,
    exc: BaseException,
    started: float,
    key: str | None,
    parts: list[str],
    ttft: float | None = None,
) -> Completion:
    """The completion of a call that raised `exc` (`started`: its perf_counter start):
    a timeout, or the provider failure's kind, with the text streamed before it."""
    latency = (time.perf_counter() - started) * 1000
    text = "".join(parts) or None
    if isinstance(exc, TimeoutError):
        message = f"no complete answer within {call.timeout_s:g} s"
        return failure(call, ErrorKind.TIMEOUT, message, latency, key, text=text, ttft=ttft)
    return failure(
        call,
        error_kind(exc),
        describe(exc),
        latency,
        key,
        retry_after=retry_after(exc),
        text=text,
        ttft=ttft,
    )


def failure(
    call: ModelCall,
    kind: ErrorKind,
    message: str,
    latency: float,
    key: str | None,
    retry_after: float | None = None,
    text: str | None = None,
    ttft: float | None = None,
) -> Completion:
    """The completion of a failed call: its kind, and a message without the call's key."""
    return Completion(
        text=text,
        finish_reason=None,
        prompt_tokens=None,
        completion_tokens=None,
        cost_usd=None,
        latency_ms=latency,
        ttft_ms=ttft,
        error_kind=ErrorKind(kind).value,
        error_message=scrub(message, [key, call.api_key])[:2000],
        retry_after_s=retry_after,
    )


def stream_end(
    call: ModelCall,
    key: str | None,
    parts: list[str],
    calls: dict[int, dict[str, Any]],
    finish: str | None,
    usage: Any,
    latency: float,
    ttft: float | None,
    raw: dict[str, Any] | None,
) -> Completion:
    """The Completion of a stream read to its end: its text, tool calls and usage, or
    `invalid_response` when it ended before the model finished (no finish_reason)."""
    text: str | None = "".join(parts)
    if not text and calls:
        text = None  # tool calls and no text: as the non-streamed message says it
    if finish is None:
        return failure(
            call,
            ErrorKind.INVALID_RESPONSE,
            "the stream ended before the model finished (no finish_reason)",
            latency,
            key,
            text=text or None,
            ttft=ttft,
        )
    tool_calls = [calls[i] for i in sorted(calls)] or None
    return success(call, text, finish, usage, latency, ttft, raw, tool_calls)


async def complete_openai_shaped(
    call: ModelCall,
    key: str | None,
    send: Callable[[], Awaitable[Any]],
    on_delta: Callable[[str], None] | None = None,
) -> Completion:
    """Await `send()` (an OpenAI-shaped chat response, or its stream when `call.stream`) and
    read it into a `Completion`; any exception becomes an error kind.

    Latency and `ttft_ms` are timed from `send()` (litellm's own clients stamp nothing on
    the wire; the lean path, `openai_compatible.py`, times its calls on the wire itself).
    The whole call, a stream included, ends at `call.timeout_s`.
    A stream that ends without a `finish_reason` is an `invalid_response` that keeps the
    partial text.
    """
    started = time.perf_counter()
    ttft: float | None = None
    text_parts: list[str] = []

    def elapsed_ms() -> float:
        return (time.perf_counter() - started) * 1000

    try:
        async with asyncio.timeout(call.timeout_s):  # a stream included: one bound in all
            response = await send()
            if not call.stream:
                latency = elapsed_ms()
                choices = getattr(response, "choices", None) or []
                if not choices:
                    return failure(
                        call,
                        ErrorKind.INVALID_RESPONSE,
                        "the response has no choices",
                        latency,
                        key,
                    )
                message = getattr(choices[0], "message", None)
                answer: str | None = getattr(message, "content", None)
                finish = getattr(choices[0], "finish_reason", None)
                usage = getattr(response, "usage", None)
                return success(
                    call,
                    answer,
                    finish,
                    usage,
                    latency,
                    None,
                    raw_dict(response),
                    tool_calls_of(message),
                )
            finish, usage, last = None, None, None
            calls: dict[int, dict[str, Any]] = {}
            async for chunk in response:
                choices = getattr(chunk, "choices", None) or []
                if choices:
                    delta = getattr(choices[0], "delta", None)
                    piece = getattr(delta, "content", None) if delta is not None else None
                    if delta is not None:
                        _add_tool_deltas(calls, delta)
                    if piece:
                        if ttft is None:
                            ttft = elapsed_ms()
                        text_parts.append(piece)
                        if on_delta is not None:
                            on_delta(piece)
                    finish = getattr(choices[0], "finish_reason", None) or finish
                usage = getattr(chunk, "usage", None) or usage
                last = chunk
            return stream_end(
                call, key, text_parts, calls, finish, usage, elapsed_ms(), ttft, raw_dict(last)
            )
    except Exception as exc:  # every provider failure becomes an error kind
        return raised(call, exc, started, key, text_parts, ttft)
