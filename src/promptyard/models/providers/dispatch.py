"""Which provider makes a call, and `complete(call)`: the one entry point the engine uses.

The routing rule (`provider_kind`), first match wins:

1. the endpoint's `provider:` in models.yaml: `litellm`, `openai_compatible`, or a plugin;
2. a simulated model: `openai_compatible` (the simulator speaks the OpenAI API);
3. a model string whose prefix names a plugin (`echo/anything`): that plugin;
4. an `api_base` with an OpenAI-compatible prefix (`openai/`, `hosted_vllm/`,
   `lm_studio/`, `litellm_proxy/`, `custom_openai/`, `llamafile/`): `openai_compatible`;
5. everything else (hosted providers, `ollama_chat/`, ...): `litellm`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from functools import lru_cache

from promptyard.models.endpoints import ModelEndpoint
from promptyard.models.providers.base import (
    Completion,
    ErrorKind,
    ModelCall,
    Provider,
    ProviderKind,
)
from promptyard.models.providers.completions import failure
from promptyard.models.providers.errors import describe, error_kind, retry_after, scrub
from promptyard.models.providers.keys import call_key
from promptyard.models.providers.litellm_provider import LiteLLMProvider
from promptyard.models.providers.openai_compatible import (
    OPENAI_COMPATIBLE_PREFIXES,
    OpenAICompatibleProvider,
)
from promptyard.models.providers.plugins import (
    UnknownProviderError,
    load_factory,
    plugin_names,
    reset_plugins,
)


def provider_kind(endpoint: ModelEndpoint) -> str:
    """The provider kind that calls `endpoint` (a `ProviderKind` or a plugin's name)."""
    if endpoint.provider_kind:
        return endpoint.provider_kind
    if endpoint.simulated:
        return ProviderKind.OPENAI_COMPATIBLE
    prefix = endpoint.litellm_model.split("/", 1)[0] if "/" in endpoint.litellm_model else None
    if prefix and prefix not in OPENAI_COMPATIBLE_PREFIXES and prefix in plugin_names():
        return prefix
    if endpoint.api_base and prefix in OPENAI_COMPATIBLE_PREFIXES:
        return ProviderKind.OPENAI_COMPATIBLE
    return ProviderKind.LITELLM


@lru_cache(maxsize=256)
def provider_for(endpoint: ModelEndpoint) -> Provider:
    """The provider of `endpoint`, built once per endpoint. Raises `UnknownProviderError`."""
    kind = provider_kind(endpoint)
    if kind == ProviderKind.OPENAI_COMPATIBLE:
        return OpenAICompatibleProvider(endpoint)
    if kind == ProviderKind.LITELLM:
        return LiteLLMProvider(endpoint)
    provider = load_factory(kind)(endpoint)
    if not isinstance(provider, Provider):
        raise UnknownProviderError(f"provider plugin {kind!r} returned no provider: {provider!r}")
    return provider


def reset_providers() -> None:
    """Forget built providers and read plugin entry points again (for tests)."""
    provider_for.cache_clear()
    reset_plugins()


async def complete(call: ModelCall, on_delta: Callable[[str], None] | None = None) -> Completion:
    """Send `call` through its endpoint's provider; return its `Completion`.

    Never raises for a provider failure: it comes back with an `error_kind` (an
    `ErrorKind` value) and a message scrubbed of secrets. `on_delta` gets each piece of
    text of a streamed call (`ModelCall(stream=True)`).
    """
    started = time.perf_counter()
    try:
        provider = provider_for(call.endpoint)
    except Exception as exc:  # an unknown kind, or a plugin that fails to load
        key = call_key(call)
        return failure(call, ErrorKind.BAD_REQUEST, describe(exc), 0.0, key)
    if isinstance(provider, OpenAICompatibleProvider | LiteLLMProvider):
        # They read the key, guard, time and scrub themselves: no second key look-up here.
        return await provider.complete(call, on_delta)
    key = call_key(call)
    try:
        # A plugin may not bound its call: a second past the call's own bound, it ends.
        async with asyncio.timeout(call.timeout_s + 1):
            result = await provider.complete(call, on_delta)
    except TimeoutError:
        latency = (time.perf_counter() - started) * 1000
        return failure(
            call, ErrorKind.TIMEOUT, f"no answer within {call.timeout_s:g} s", latency, key
        )
    except Exception as exc:  # a plugin's failure is a failed call, not a crashed run
        latency = (time.perf_counter() - started) * 1000
        return failure(call, error_kind(exc), describe(exc), latency, key, retry_after(exc))
    if result.error_message:
        result.error_message = scrub(result.error_message, [key])
    return result
