"""A model endpoint (a model a run can call, and how to reach it) and where its key comes from.

Nothing here imports litellm or the network: the catalog builds endpoints, providers call them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from promptyard.workspace import Workspace

#: The env var that holds each provider's key, as litellm reads them.
PROVIDER_KEY_ENV: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "groq": "GROQ_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "xai": "XAI_API_KEY",
    "cohere": "COHERE_API_KEY",
    "together_ai": "TOGETHERAI_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "fireworks_ai": "FIREWORKS_AI_API_KEY",
    "perplexity": "PERPLEXITYAI_API_KEY",
    "deepinfra": "DEEPINFRA_API_KEY",
}


@dataclass(frozen=True)
class ModelEndpoint:
    """A model a run can call, and how to reach it. Holds the key's env var name, never the key.

    `provider` is the model string's prefix (`openai` in `openai/gpt-4o-mini`), which names
    the key's env var; `provider_kind` is the `provider:` of a models.yaml entry, which
    names the code that makes the call (`litellm`, `openai_compatible` or a plugin's name;
    None: `providers.provider_for` decides from the model string and `api_base`).
    """

    name: str
    litellm_model: str
    api_base: str | None = None
    api_key_env: str | None = None
    max_concurrency: int | None = None
    rpm: int | None = None
    input_cost_per_token: float | None = None
    output_cost_per_token: float | None = None
    simulated: bool = False
    source: str = "litellm"  # "simulator" | "models.yaml" | "litellm" | "plugin"
    provider: str | None = None
    description: str | None = None
    provider_kind: str | None = None

    @property
    def label(self) -> str:
        """How the UI names it: simulated models say so."""
        return f"{self.name} (simulated)" if self.simulated else self.name


def api_key(endpoint: ModelEndpoint, ws: Workspace | None = None) -> str | None:
    """The key for `endpoint`, read now from the env, else `.streamlit/secrets.toml`."""
    env = endpoint.api_key_env or PROVIDER_KEY_ENV.get(endpoint.provider or "")
    if not env:
        return None
    value = os.environ.get(env)
    if value:
        return value
    if ws is not None:
        return ws.settings.secrets.get(env) or None
    from promptyard.workspace import current_workspace

    try:
        return current_workspace().settings.secrets.get(env) or None
    except OSError:
        return None


def providers_with_keys(ws: Workspace) -> list[str]:
    """The providers whose key is present in the env or the workspace's secrets."""
    secrets = ws.settings.secrets
    return [p for p, env in PROVIDER_KEY_ENV.items() if os.environ.get(env) or secrets.get(env)]
