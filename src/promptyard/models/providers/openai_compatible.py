"""OpenAI-compatible endpoints on the lean path: the simulator, vLLM, Ollama's /v1, LM Studio,
llama.cpp, a LiteLLM proxy, any server with an OpenAI chat API at `api_base`.

A call is one POST to `{api_base}/chat/completions` on the running loop's shared session
for that `api_base` (`http_streams.StreamSession` for a base reached directly, else
aiohttp's: `http_pool`), its body written and read with orjson: no `openai` SDK, no
litellm, no per-call client or logging objects. It reads the answer the way the SDK does
(a JSON body, or server-sent events with usage in the last chunk) and fails with the
exceptions the SDK would raise (`http_errors.py`), so error kinds and Retry-After come out
as before. The run engine does the retrying.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson

from promptyard.models.endpoints import ModelEndpoint
from promptyard.models.providers.base import Completion, ErrorKind, ModelCall
from promptyard.models.providers.completions import failure, raised
from promptyard.models.providers.http_errors import (
    APIConnectionError,
    APITimeoutError,
    status_error,
)
from promptyard.models.providers.http_pool import CallTiming, session_for, start_timing
from promptyard.models.providers.keys import call_key, missing_key, missing_key_message
from promptyard.models.providers.lean_read import read_answer, read_stream
from promptyard.models.simulator.catalog import REPEAT_HEADER, SIMULATOR_KEY_ENV

#: litellm's prefixes for servers that speak the OpenAI API; dropped from the model name sent.
OPENAI_COMPATIBLE_PREFIXES = frozenset(
    {"openai", "hosted_vllm", "lm_studio", "litellm_proxy", "custom_openai", "llamafile"}
)
# request options of the SDK's `create` that are not part of the JSON body
_NOT_IN_BODY = frozenset({"extra_headers", "extra_body", "extra_query", "timeout"})


def model_name(endpoint: ModelEndpoint) -> str:
    """The model name the server is asked for: the model string without an OpenAI-compatible
    prefix (`hosted_vllm/Qwen/Qwen2.5-7B` asks for `Qwen/Qwen2.5-7B`)."""
    model = endpoint.litellm_model
    prefix, _, bare = model.partition("/")
    return bare if bare and prefix in OPENAI_COMPATIBLE_PREFIXES else model


def request(call: ModelCall, key: str | None) -> tuple[dict[str, Any], dict[str, str]]:
    """The JSON body and the headers of the POST for `call` (the repeat index in a header),
    as the SDK would send them: parameters in the body, `extra_body` merged into it."""
    params = call.parameters
    headers = {"Content-Type": "application/json", REPEAT_HEADER: str(call.repeat)}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    body: dict[str, Any] = {"model": model_name(call.endpoint), "messages": call.messages}
    if _NOT_IN_BODY.isdisjoint(params):
        body.update(params)
    else:
        body.update((k, v) for k, v in params.items() if k not in _NOT_IN_BODY)
        body.update(params.get("extra_body") or {})
        headers.update({k: str(v) for k, v in (params.get("extra_headers") or {}).items()})
    if call.tools is not None:
        body["tools"] = call.tools
    if call.stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body, headers


class OpenAICompatibleProvider:
    """Calls one endpoint's OpenAI chat API over the loop's shared session for it."""

    def __init__(self, endpoint: ModelEndpoint) -> None:
        self.endpoint = endpoint

    async def complete(
        self, call: ModelCall, on_delta: Callable[[str], None] | None = None
    ) -> Completion:
        """Send `call`; failures come back as a `Completion` with an error kind."""
        endpoint = call.endpoint
        base_url = endpoint.api_base
        if endpoint.simulated and not base_url:
            from promptyard.models.simulator import ensure_simulator  # in this process

            base_url = ensure_simulator()
        key = call_key(call)
        if endpoint.simulated and not key:
            key = os.environ.get(SIMULATOR_KEY_ENV) or None  # `promptyard simulate --api-key`
        if key is None and (variable := missing_key(endpoint)):
            return failure(call, ErrorKind.AUTH, missing_key_message(endpoint, variable), 0.0, None)
        base = (
            base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        ).rstrip("/")
        body, headers = request(call, key or "no-key")  # local servers take any key
        timing = start_timing()
        started = time.perf_counter()
        partial: list[str] = []
        try:
            async with asyncio.timeout(call.timeout_s):  # a stream included: one bound in all
                session, proxy = await session_for(base)
                return await _post(
                    session,
                    proxy,
                    f"{base}/chat/completions",
                    body,
                    headers,
                    call,
                    key,
                    timing,
                    partial,
                    on_delta,
                    call.parameters.get("extra_query") or None,
                )
        except TimeoutError as exc:
            return raised(call, exc, started, key, partial)
        except Exception as exc:  # every provider failure becomes an error kind
            return raised(call, _as_api_error(exc), started, key, partial)


async def _post(
    session: Any,
    proxy: str | None,
    url: str,
    body: dict[str, Any],
    headers: dict[str, str],
    call: ModelCall,
    key: str | None,
    timing: CallTiming,
    partial: list[str],
    on_delta: Callable[[str], None] | None,
    query: dict[str, Any] | None = None,
) -> Completion:
    started = time.perf_counter()
    data = orjson.dumps(body)
    async with session.post(url, data=data, headers=headers, proxy=proxy, params=query) as response:
        if response.status >= 400:
            raise status_error(response.status, await response.read(), response.headers)
        if call.stream and "event-stream" in response.headers.get("Content-Type", ""):
            return await read_stream(call, key, response, timing, partial, on_delta)
        answer = await response.read()
        arrived = time.perf_counter()
        # timed now, while the connection is still this call's (the kernel's figures are
        # the connection's latest request and answer)
        latency = timing.since_sent_ms(arrived)
    if latency is None:  # no connection was stamped: the time around the request
        latency = (arrived - started) * 1000
    return read_answer(call, key, orjson.loads(answer), latency)


def _as_api_error(exc: Exception) -> Exception:
    """aiohttp's exception as the SDK's for the same failure (others unchanged)."""
    aiohttp = sys.modules.get("aiohttp")
    if aiohttp is None:  # not loaded (a `StreamSession`'s call): not one of its errors
        return exc
    if isinstance(exc, aiohttp.ClientPayloadError):
        # the body was cut off: what httpx calls an incomplete chunked read
        wrapped: Exception = APIConnectionError(f"incomplete chunked read: {exc}")
    elif isinstance(exc, aiohttp.ServerTimeoutError):
        wrapped = APITimeoutError(f"Request timed out: {exc}")
    elif isinstance(exc, aiohttp.ClientError):
        wrapped = APIConnectionError(f"Connection error: {exc}")
    else:
        return exc
    wrapped.__cause__ = exc
    return wrapped
