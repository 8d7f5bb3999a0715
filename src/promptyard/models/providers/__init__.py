"""Providers: one `ModelCall` in, one `Completion` out, through the provider its endpoint names.

Built in: `openai_compatible` (the lean path: one shared aiohttp session per endpoint, for
the simulator and OpenAI-compatible servers) and `litellm` (everything else). Plugins add
kinds through `promptyard.providers` entry points. Neither the `openai` SDK nor litellm is
ever imported on the lean path; litellm is imported on the first call that needs it.
"""

# kept for callers of the former flat module (`providers.estimate_cost`, `.count_tokens`)
from promptyard.models.pricing import estimate_cost as estimate_cost
from promptyard.models.providers.base import (
    RETRYABLE_KINDS,
    Completion,
    ErrorKind,
    ModelCall,
    Provider,
    ProviderFactory,
    ProviderKind,
)
from promptyard.models.providers.dispatch import (
    complete,
    provider_for,
    provider_kind,
    reset_providers,
)
from promptyard.models.providers.errors import error_kind, retry_after, scrub
from promptyard.models.providers.keys import key_variable, missing_key, missing_key_message
from promptyard.models.providers.plugins import (
    ENTRY_POINT_GROUP,
    UnknownProviderError,
    plugin_names,
)
from promptyard.prompts.tokens import count_tokens as count_tokens

__all__ = [
    "ENTRY_POINT_GROUP",
    "RETRYABLE_KINDS",
    "Completion",
    "ErrorKind",
    "ModelCall",
    "Provider",
    "ProviderFactory",
    "ProviderKind",
    "UnknownProviderError",
    "complete",
    "error_kind",
    "key_variable",
    "missing_key",
    "missing_key_message",
    "plugin_names",
    "provider_for",
    "provider_kind",
    "reset_providers",
    "retry_after",
    "scrub",
]
