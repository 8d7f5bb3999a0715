"""Whether an endpoint needs an API key, and which variable holds it.

A hosted provider (`openai/...`, `anthropic/...`) or an endpoint whose models.yaml entry
names an `api_key_env` needs a key; a simulated model or a local server at an `api_base`
with no `api_key_env` does not. Runs are refused before they start when a needed key is
unset, and a call made anyway fails as `auth` without being sent.
"""

from __future__ import annotations

from promptyard.models.endpoints import PROVIDER_KEY_ENV, ModelEndpoint, api_key
from promptyard.models.providers.base import ModelCall
from promptyard.workspace import Workspace

# `ModelCall.api_key` of a caller that looked the key up once and found none: send none.
NO_KEY = ""


def run_key(endpoint: ModelEndpoint, ws: Workspace) -> str:
    """The endpoint's key read now, once for many calls (`ModelCall.api_key`); NO_KEY
    when there is none."""
    return api_key(endpoint, ws) or NO_KEY


def call_key(call: ModelCall) -> str | None:
    """The key to send with `call`: the one it carries (NO_KEY: none), else the
    endpoint's key read now (the env, then the current workspace's secrets).

    A run looks its keys up once per model and passes them in, so a call does not read
    `.streamlit/secrets.toml` again (that read was about a tenth of a run's CPU).
    """
    if call.api_key is None:
        return api_key(call.endpoint)
    return call.api_key or None


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
