"""Every other endpoint (Anthropic, Gemini, Mistral, Bedrock, Ollama's native API, ...)
through litellm's public API: `litellm.acompletion`, one call at a time.

litellm is imported on the first call that goes through it (its import takes seconds).
Nothing here changes litellm's process-wide settings: callbacks, logging and its own cost
tracking stay as the user configured them. Options that matter to Promptyard (no retries
of its own, unsupported parameters dropped) are passed per call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from promptyard.models.endpoints import ModelEndpoint
from promptyard.models.providers.base import Completion, ErrorKind, ModelCall
from promptyard.models.providers.completions import complete_openai_shaped, failure
from promptyard.models.providers.keys import call_key, missing_key, missing_key_message
from promptyard.models.simulator.catalog import REPEAT_HEADER


def _litellm() -> Any:
    """litellm, imported with Promptyard's offline defaults in place (bundled price map)."""
    from promptyard._env import configure_offline_defaults

    configure_offline_defaults()
    import litellm

    from promptyard.models.pricing import register_simulated_prices

    register_simulated_prices()  # litellm is imported now: its cost map learns sim prices
    return litellm


def request(call: ModelCall, key: str | None) -> dict[str, Any]:
    """The keyword arguments of `litellm.acompletion` for `call`."""
    endpoint = call.endpoint
    api_base = endpoint.api_base
    if endpoint.simulated and not api_base:
        from promptyard.models.simulator import ensure_simulator  # in this process

        api_base = ensure_simulator()
    kwargs: dict[str, Any] = dict(call.parameters)
    kwargs.update(
        model=endpoint.litellm_model,
        messages=call.messages,
        timeout=call.timeout_s,
        max_retries=0,  # the run engine retries, with backoff and Retry-After
        num_retries=0,
        drop_params=True,  # a parameter the provider does not take is dropped, not an error
    )
    if call.tools is not None:
        kwargs["tools"] = call.tools
    # the repeat index travels in a header: providers ignore it, the simulator varies on it
    headers = dict(kwargs.get("extra_headers") or {})
    headers[REPEAT_HEADER] = str(call.repeat)
    kwargs["extra_headers"] = headers
    if api_base:
        kwargs["api_base"] = api_base
    if key:
        kwargs["api_key"] = key
    elif api_base:
        kwargs["api_key"] = "no-key"  # local servers take any key; the OpenAI client needs one
    if call.stream:
        kwargs["stream"] = True
        kwargs["stream_options"] = {"include_usage": True}
    return kwargs


class LiteLLMProvider:
    """Calls one endpoint through `litellm.acompletion`."""

    def __init__(self, endpoint: ModelEndpoint) -> None:
        self.endpoint = endpoint

    async def complete(
        self, call: ModelCall, on_delta: Callable[[str], None] | None = None
    ) -> Completion:
        """Send `call`; failures come back as a `Completion` with an error kind."""
        key = call_key(call)
        if key is None and (variable := missing_key(call.endpoint)):
            message = missing_key_message(call.endpoint, variable)
            return failure(call, ErrorKind.AUTH, message, 0.0, None)
        litellm = _litellm()
        kwargs = request(call, key)
        return await complete_openai_shaped(
            call, key, lambda: litellm.acompletion(**kwargs), on_delta
        )
