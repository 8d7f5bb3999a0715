"""OpenAI-compatible endpoints through the `openai` SDK: the simulator, vLLM, Ollama's /v1,
LM Studio, llama.cpp, a LiteLLM proxy, any server with an OpenAI chat API at `api_base`.

One `AsyncOpenAI` client per (event loop, base url, key), kept for the loop's life; its
transport sends on the process's I/O thread (`wire.py`), whose pool keeps connections
warm across runs. The SDK's own retries are off (the run engine retries).
The `openai` SDK is imported on the first call, not at import.
"""

from __future__ import annotations

import inspect
import os
import threading
import weakref
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from promptyard.models.endpoints import ModelEndpoint, api_key
from promptyard.models.providers.base import Completion, ErrorKind, ModelCall
from promptyard.models.providers.completions import complete_openai_shaped, failure
from promptyard.models.providers.keys import missing_key, missing_key_message
from promptyard.models.providers.wire import io_loop, timed_transport
from promptyard.models.simulator import REPEAT_HEADER, SIMULATOR_KEY_ENV, ensure_simulator

#: litellm's prefixes for servers that speak the OpenAI API; dropped from the model name sent.
OPENAI_COMPATIBLE_PREFIXES = frozenset(
    {"openai", "hosted_vllm", "lm_studio", "litellm_proxy", "custom_openai", "llamafile"}
)

_clients: weakref.WeakKeyDictionary[Any, dict[tuple[str | None, str], Any]] = (
    weakref.WeakKeyDictionary()
)
_clients_lock = threading.Lock()


def _client(base_url: str | None, key: str) -> Any:
    """The shared client of this event loop for (base_url, key); httpx pools are per loop."""
    import asyncio

    loop = asyncio.get_running_loop()
    with _clients_lock:
        per_loop = _clients.setdefault(loop, {})
        client = per_loop.get((base_url, key))
        if client is None:
            import sys

            from openai import DEFAULT_CONNECTION_LIMITS, AsyncOpenAI, DefaultAsyncHttpxClient

            # whichever HTTP library (httpx, or its fork) this SDK version is built on
            httpx = sys.modules[type(DEFAULT_CONNECTION_LIMITS).__module__.split(".")[0]]
            # Bytes move on the I/O thread, which stamps when each request left and its
            # answer arrived: latency is the wire's, not this loop's backlog (wire.py).
            client = AsyncOpenAI(
                base_url=base_url,
                api_key=key,
                max_retries=0,
                http_client=DefaultAsyncHttpxClient(transport=timed_transport(httpx)),
            )
            per_loop[(base_url, key)] = client
            _warm_up()
        return client


@lru_cache(maxsize=1)
def _warm_up() -> None:
    """Build the SDK's answer types and start the I/O loop before the first request: work
    that holds the GIL for a while, done before any call is on the wire."""
    from openai._models import construct_type
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    choice = {"index": 0, "finish_reason": "stop"}
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    head = {"id": "warm-up", "created": 0, "model": "warm-up", "usage": usage}
    construct_type(
        type_=ChatCompletion,
        value={**head, "object": "chat.completion", "choices": [{**choice, "message": {}}]},
    )
    construct_type(
        type_=ChatCompletionChunk,
        value={**head, "object": "chat.completion.chunk", "choices": [{**choice, "delta": {}}]},
    )
    io_loop()


@lru_cache(maxsize=1)
def _sdk_parameters() -> frozenset[str]:
    """The keyword arguments `chat.completions.create` takes; others go in the request body."""
    from openai.resources.chat.completions import AsyncCompletions

    names = set(inspect.signature(AsyncCompletions.create).parameters)
    return frozenset(names - {"self", "model", "messages", "stream", "timeout"})


def model_name(endpoint: ModelEndpoint) -> str:
    """The model name the server is asked for: the model string without an OpenAI-compatible
    prefix (`hosted_vllm/Qwen/Qwen2.5-7B` asks for `Qwen/Qwen2.5-7B`)."""
    model = endpoint.litellm_model
    prefix, _, bare = model.partition("/")
    return bare if bare and prefix in OPENAI_COMPATIBLE_PREFIXES else model


def request(call: ModelCall) -> dict[str, Any]:
    """The keyword arguments of the SDK call for `call` (the repeat index in a header)."""
    params = dict(call.parameters)
    headers = dict(params.pop("extra_headers", None) or {})
    # the repeat index travels in a header: providers ignore it, the simulator varies on it
    headers[REPEAT_HEADER] = str(call.repeat)
    extra_body = dict(params.pop("extra_body", None) or {})
    known = _sdk_parameters()
    kwargs: dict[str, Any] = {k: v for k, v in params.items() if k in known}
    extra_body.update({k: v for k, v in params.items() if k not in known})
    kwargs.update(
        model=model_name(call.endpoint),
        messages=call.messages,
        timeout=call.timeout_s,
        extra_headers=headers,
    )
    if call.tools is not None:
        kwargs["tools"] = call.tools
    if extra_body:
        kwargs["extra_body"] = extra_body
    if call.stream:
        kwargs["stream"] = True
        kwargs["stream_options"] = {"include_usage": True}
    return kwargs


class OpenAICompatibleProvider:
    """Calls one endpoint's OpenAI chat API with the `openai` SDK."""

    def __init__(self, endpoint: ModelEndpoint) -> None:
        self.endpoint = endpoint

    async def complete(
        self, call: ModelCall, on_delta: Callable[[str], None] | None = None
    ) -> Completion:
        """Send `call`; failures come back as a `Completion` with an error kind."""
        endpoint = call.endpoint
        base_url = endpoint.api_base
        if endpoint.simulated and not base_url:
            base_url = ensure_simulator()
        key = call.api_key or api_key(endpoint)
        if endpoint.simulated and not key:
            key = os.environ.get(SIMULATOR_KEY_ENV) or None  # `promptyard simulate --api-key`
        if key is None and (variable := missing_key(endpoint)):
            return failure(call, ErrorKind.AUTH, missing_key_message(endpoint, variable), 0.0, None)
        # local servers take any key; the SDK wants one
        client = _client(base_url, key or "no-key")
        kwargs = request(call)
        return await complete_openai_shaped(
            call, key, lambda: client.chat.completions.create(**kwargs), on_delta
        )
