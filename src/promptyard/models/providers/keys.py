"""Whether an endpoint needs an API key, and which variable holds it.

A hosted provider (`openai/...`, `anthropic/...`) or an endpoint whose models.yaml entry
names an `api_key_env` needs a key; a simulated model or a local server at an `api_base`
with no `api_key_env` does not. Runs are refused before they start when a needed key is
unset, and a call made anyway fails as `auth` without being sent.
"""

from __future__ import annotations

from promptyard.models.endpoints import PROVIDER_KEY_ENV, ModelEndpoint, api_key
from promptyard.workspace import Workspace


def key_variable(endpoint: ModelEndpoint) -> str | None:
    """The env var (or secret) that must hold the endpoint's key; None: it needs none."""
    if endpoint.simulated:
        return None
    if endpoint.api_key_env:
        return endpoint.api_key_env
    if endpoint.api_base:
        return None  # a local server: any key will do
    return PROVIDER_KEY_ENV.get(endpoint.provider or "")


def missing_key(endpoint: ModelEndpoint, ws: Workspace | None = None) -> str | None:
    """The variable to set when the endpoint needs a key that is not there, else None."""
    variable = key_variable(endpoint)
    if variable is None or api_key(endpoint, ws):
        return None
    return variable


def missing_key_message(endpoint: ModelEndpoint, variable: str) -> str:
    """One line naming the model and the variable to set."""
    return (
        f"model {endpoint.name} needs an API key: {variable} is not set "
        "(set it in the environment or .streamlit/secrets.toml)"
    )
