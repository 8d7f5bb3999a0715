"""`promptyard.resolve_model`: what an application needs to call a prompt's model itself.

A Promptyard model name (`sim-fast`, a `models.yaml` name, `openai/gpt-4o-mini`) means
nothing to the openai SDK or litellm. `resolve_model(prompt)` turns it into a base URL, the
model id to send, the *name* of the key's environment variable, the prompt's call
parameters and the litellm model string. Reading a bundle's model entries needs no git and
no workspace.

Not to be confused with `promptyard.models.resolve_model(ws, name)`, the catalog's look-up
of the `ModelEndpoint` the run engine calls; this one is the public face's, for apps.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptyard.models.catalog import (
    ModelConfigError,
    _endpoint_from_entry,
    resolve_among,
)
from promptyard.models.catalog import (
    resolve_model as catalog_model,
)
from promptyard.models.endpoints import PROVIDER_KEY_ENV, ModelEndpoint
from promptyard.models.providers import provider_kind
from promptyard.models.simulator import SIMULATOR_KEY_ENV, ensure_simulator
from promptyard.prompts import BundleError, PromptTemplate, bundle_from_env, load_bundle
from promptyard.workspace import Workspace, current_workspace


@dataclass(frozen=True)
class ResolvedModel:
    """How to call one model from an application. Holds the key's env var name, never a key.

    `model` is what to send as `model` to the openai SDK (the model string without its
    provider prefix), with `base_url` (None: the provider's own default, such as the openai
    SDK's for `openai/...`). `litellm_model` is what litellm takes, with `base_url` as its
    `api_base`. `parameters` are the prompt's call parameters (temperature, max_tokens, ...)
    when a prompt was resolved, else empty. `provider` is the provider kind Promptyard's
    own runs would use (`openai_compatible`, `litellm` or a plugin's name).
    """

    name: str
    model: str
    base_url: str | None
    api_key_env: str | None
    litellm_model: str
    provider: str
    parameters: dict[str, Any] = field(default_factory=dict, hash=False)
    simulated: bool = False

    def api_key(self) -> str | None:
        """The key, read now from the environment variable `api_key_env` (None when unset)."""
        return os.environ.get(self.api_key_env) if self.api_key_env else None

    def client_key(self) -> str | None:
        """The key to give a client: `api_key()`, else "no-key" for a model at its own
        `base_url` (local servers and the simulator take any key; the SDKs want one)."""
        return self.api_key() or ("no-key" if self.base_url else None)

    def openai_kwargs(self) -> dict[str, Any]:
        """`model` and the parameters, for `client.chat.completions.create(messages=..., **it)`."""
        return {"model": self.model, **self.parameters}

    def litellm_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `litellm.completion(messages=..., **it)`, the key read now."""
        kwargs: dict[str, Any] = {"model": self.litellm_model, **self.parameters}
        if self.base_url:
            kwargs["api_base"] = self.base_url
        key = self.client_key()
        if key:
            kwargs["api_key"] = key
        return kwargs


def resolve_model(
    model: str | PromptTemplate,
    *,
    workspace: Workspace | None = None,
    bundle: str | Path | None = None,
) -> ResolvedModel:
    """How to call `model` (a model name, or a prompt: its model and call parameters).

    Names are looked up in the bundle's model entries (`bundle=`, or `$PROMPTYARD_BUNDLE`
    when no workspace is given), else in the workspace's `models.yaml`; then simulator
    models (whose base URL is `$PROMPTYARD_SIMULATOR_URL`, else the simulator this process
    starts, as runs do) and litellm model strings. Raises UnknownModelError, or
    ModelConfigError / BundleError naming the file.
    """
    parameters: dict[str, Any] = {}
    if isinstance(model, PromptTemplate):
        if not model.model:
            raise ModelConfigError(f"prompt {model.name!r} names no model (front matter model.id)")
        parameters = dict(model.parameters)
        name = model.model
    else:
        name = model
    file = Path(bundle) if bundle is not None else bundle_from_env() if workspace is None else None
    if file is not None:
        endpoint = _from_bundle(file, name)
    else:
        endpoint = catalog_model(workspace or current_workspace(), name)
    return _resolved(endpoint, parameters)


def _from_bundle(file: Path, name: str) -> ModelEndpoint:
    loaded = load_bundle(file)
    configured = {}
    for key, entry in loaded.models.items():
        try:
            configured[key] = _endpoint_from_entry(key, entry, f"{file}: model {key!r}")
        except ModelConfigError as exc:
            raise BundleError(str(exc)) from None
    return resolve_among(configured, name)


def _resolved(endpoint: ModelEndpoint, parameters: dict[str, Any]) -> ResolvedModel:
    kind = str(provider_kind(endpoint))
    base_url = endpoint.api_base
    key_env = endpoint.api_key_env or PROVIDER_KEY_ENV.get(endpoint.provider or "")
    if endpoint.simulated:
        base_url = base_url or ensure_simulator()
        key_env = SIMULATOR_KEY_ENV  # the key `promptyard simulate --api-key` wants, if any
    prefix, _, bare = endpoint.litellm_model.partition("/")
    return ResolvedModel(
        name=endpoint.name,
        model=bare if bare and prefix else endpoint.litellm_model,
        base_url=base_url.rstrip("/") if base_url else None,
        api_key_env=key_env,
        litellm_model=endpoint.litellm_model,
        provider=kind,
        parameters=parameters,
        simulated=endpoint.simulated,
    )
