"""The model catalog: which models a user can pick, where they live, what they cost.

Three sources, in this order of precedence for a name:

1. named endpoints in the workspace's `models.yaml` (local servers, proxies, overrides);
2. the simulator's models (`sim-fast`, `sim-smart`, `sim-json`), always there;
3. litellm model strings (`openai/gpt-4o-mini`): any well-formed one resolves; the catalog
   lists the chat models of the providers whose API key is present (env or
   `.streamlit/secrets.toml`).

Nothing here imports litellm: its price map is read as JSON (see `pricing.price_map`).
"""

from __future__ import annotations

import os
import re
from typing import Any

from promptyard.errors import NotFoundError, PromptyardError
from promptyard.models.endpoints import (
    PROVIDER_KEY_ENV,
    ModelEndpoint,
    api_key,
    providers_with_keys,
)
from promptyard.models.pricing import price_map
from promptyard.models.providers.plugins import plugin_names
from promptyard.models.simulator import SIMULATED_MODELS, SIMULATOR_URL_ENV
from promptyard.workspace import Workspace

__all__ = [  # ModelEndpoint and the key helpers are re-exported for the catalog's callers
    "PROVIDER_DEFAULT_MODEL",
    "PROVIDER_KEY_ENV",
    "ModelConfigError",
    "ModelEndpoint",
    "UnknownModelError",
    "api_key",
    "default_models",
    "load_catalog",
    "load_endpoints",
    "providers_with_keys",
    "resolve_among",
    "resolve_model",
    "simulated_endpoint",
]

#: A cheap, capable default per provider, used by `default_models` when that key is present.
PROVIDER_DEFAULT_MODEL: dict[str, str] = {
    "openai": "openai/gpt-4o-mini",
    "anthropic": "anthropic/claude-3-5-haiku-latest",
    "gemini": "gemini/gemini-2.0-flash",
    "mistral": "mistral/mistral-small-latest",
    "groq": "groq/llama-3.1-8b-instant",
    "deepseek": "deepseek/deepseek-chat",
}

# Providers that need no entry in the price map to be valid (local servers, proxies).
_EXTRA_PROVIDERS = frozenset(
    {
        "openai",
        "azure",
        "ollama",
        "ollama_chat",
        "hosted_vllm",
        "vllm",
        "lm_studio",
        "litellm_proxy",
        "openrouter",
        "huggingface",
        "custom_openai",
        "llamafile",
        "text-completion-openai",
    }
)

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MODEL_STRING = re.compile(r"^[A-Za-z0-9_\-.]+/\S+$")
_PROVIDER_KIND = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")
_ENDPOINT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@/\-]*$")


class ModelConfigError(PromptyardError):
    """`models.yaml` is malformed: the message names the file, the model and the field."""


class UnknownModelError(NotFoundError):
    """A model name that is neither configured, simulated, nor a well-formed litellm string."""


def _provider_of(model: str) -> str | None:
    return model.split("/", 1)[0] if "/" in model else None


def simulated_endpoint(name: str) -> ModelEndpoint:
    """The catalog entry of simulator model `name`; its api_base is filled at call time."""
    spec = SIMULATED_MODELS[name]
    return ModelEndpoint(
        name=name,
        litellm_model=f"openai/{name}",
        api_base=os.environ.get(SIMULATOR_URL_ENV) or None,
        api_key_env=None,
        input_cost_per_token=spec.input_cost_per_token,
        output_cost_per_token=spec.output_cost_per_token,
        simulated=True,
        source="simulator",
        provider="simulator",
        description=spec.description,
    )


# ---------------------------------------------------------------------------------------
# models.yaml


def _line_of(node_map: dict[str, int], name: str) -> str:
    line = node_map.get(name)
    return f" (line {line})" if line else ""


def load_endpoints(ws: Workspace) -> dict[str, ModelEndpoint]:
    """The named endpoints of `models.yaml` (empty when the file does not exist)."""
    import yaml

    path = ws.models_file
    if not path.is_file():
        return {}
    where = path.name
    try:
        text = path.read_text(encoding="utf-8")
        root_node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        at = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ModelConfigError(f"{where}{at}: not valid YAML: {exc.problem}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ModelConfigError(f"{where}: cannot be read: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or "models" not in data:
        raise ModelConfigError(f"{where}: must be a mapping with a top-level 'models:' key")
    models = data["models"]
    if models is None:
        return {}
    if not isinstance(models, dict):
        raise ModelConfigError(f"{where}: 'models' must map names to endpoints")
    lines: dict[str, int] = {}
    if isinstance(root_node, yaml.MappingNode):
        for k, v in root_node.value:
            if k.value == "models" and isinstance(v, yaml.MappingNode):
                lines = {str(mk.value): mk.start_mark.line + 1 for mk, _ in v.value}
    out: dict[str, ModelEndpoint] = {}
    for name, entry in models.items():
        name = str(name)
        ctx = f"{where}: model '{name}'{_line_of(lines, name)}"
        if not _ENDPOINT_NAME.fullmatch(name) or len(name) > 100:
            raise ModelConfigError(f"{ctx}: the name may only hold letters, digits and _ . : @ / -")
        if name in SIMULATED_MODELS:
            raise ModelConfigError(f"{ctx}: '{name}' is a simulator model name; choose another")
        if not isinstance(entry, dict):
            raise ModelConfigError(f"{ctx}: must be a mapping with at least a 'model' field")
        out[name] = _endpoint_from_entry(name, entry, ctx)
    return out


def _endpoint_from_entry(name: str, entry: dict[str, Any], ctx: str) -> ModelEndpoint:
    model = entry.get("model")
    if not isinstance(model, str) or not model.strip():
        raise ModelConfigError(
            f"{ctx}: field 'model' is required: a litellm model string such as openai/my-model"
        )
    model = model.strip()
    if any(c.isspace() for c in model):
        raise ModelConfigError(f"{ctx}: field 'model' must not contain spaces, got {model!r}")
    api_base = entry.get("api_base")
    if api_base is not None and (
        not isinstance(api_base, str) or not re.fullmatch(r"https?://\S+", api_base)
    ):
        raise ModelConfigError(f"{ctx}: field 'api_base' must be an http(s) URL, got {api_base!r}")
    key_env = entry.get("api_key_env")
    if key_env is not None and (not isinstance(key_env, str) or not _ENV_NAME.fullmatch(key_env)):
        raise ModelConfigError(
            f"{ctx}: field 'api_key_env' must be the NAME of an environment variable (such as MY_KEY), not the key"
        )
    if "api_key" in entry:
        raise ModelConfigError(
            f"{ctx}: field 'api_key' is not allowed: keys never go in files; set 'api_key_env' to the name of an environment variable"
        )

    def positive_int(field: str) -> int | None:
        value = entry.get(field)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ModelConfigError(
                f"{ctx}: field '{field}' must be a positive integer, got {value!r}"
            )
        return value

    def price(field: str) -> float | None:
        value = entry.get(field)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ModelConfigError(
                f"{ctx}: field '{field}' must be a number >= 0 (USD per token), got {value!r}"
            )
        return float(value)

    kind = entry.get("provider")
    if kind is not None and (not isinstance(kind, str) or not _PROVIDER_KIND.fullmatch(kind)):
        raise ModelConfigError(
            f"{ctx}: field 'provider' must name a provider (litellm, openai_compatible or a plugin's), got {kind!r}"
        )
    description = entry.get("description")
    return ModelEndpoint(
        name=name,
        litellm_model=model,
        api_base=api_base.rstrip("/") if isinstance(api_base, str) else None,
        api_key_env=key_env,
        max_concurrency=positive_int("max_concurrency"),
        rpm=positive_int("rpm"),
        input_cost_per_token=price("input_cost_per_token"),
        output_cost_per_token=price("output_cost_per_token"),
        source="models.yaml",
        provider=_provider_of(model),
        description=str(description) if description is not None else None,
        provider_kind=kind,
    )


# ---------------------------------------------------------------------------------------
# the catalog


def _litellm_chat_models(provider: str) -> list[str]:
    out = []
    for key, info in price_map().items():
        if not isinstance(info, dict) or info.get("litellm_provider") != provider:
            continue
        if info.get("mode") not in (None, "chat"):
            continue
        out.append(key if key.startswith(provider + "/") else f"{provider}/{key}")
    return sorted(set(out))


def _litellm_endpoint(model: str, source: str = "litellm") -> ModelEndpoint:
    provider = _provider_of(model)
    return ModelEndpoint(
        name=model,
        litellm_model=model,
        api_key_env=PROVIDER_KEY_ENV.get(provider or ""),
        source=source,
        provider=provider,
    )


def load_catalog(ws: Workspace) -> list[ModelEndpoint]:
    """Every model a user can pick now: simulator, `models.yaml`, then keyed providers' models."""
    catalog = [simulated_endpoint(n) for n in SIMULATED_MODELS]
    configured = load_endpoints(ws)
    catalog.extend(configured.values())
    seen = {e.name for e in catalog}
    for provider in providers_with_keys(ws):
        for model in _litellm_chat_models(provider):
            if model not in seen:
                seen.add(model)
                catalog.append(_litellm_endpoint(model))
    return catalog


def _known_providers() -> set[str]:
    found = {
        str(info.get("litellm_provider"))
        for info in price_map().values()
        if isinstance(info, dict) and info.get("litellm_provider")
    }
    return found | _EXTRA_PROVIDERS | set(PROVIDER_KEY_ENV)


def resolve_model(ws: Workspace, name: str) -> ModelEndpoint:
    """The endpoint for `name`: a models.yaml name, a simulator model, or a litellm string."""
    if not (name or "").strip():
        raise UnknownModelError("model name is empty")
    return resolve_among(load_endpoints(ws), name)


def resolve_among(configured: dict[str, ModelEndpoint], name: str) -> ModelEndpoint:
    """The endpoint for `name` given the named endpoints `configured` (from a models.yaml,
    or a bundle's model entries), else a simulator model or a litellm string."""
    name = (name or "").strip()
    if not name:
        raise UnknownModelError("model name is empty")
    if name in configured:
        return configured[name]
    bare = name.removeprefix("simulator/")
    if bare in SIMULATED_MODELS:
        return simulated_endpoint(bare)
    if "/" in name:
        if not _MODEL_STRING.fullmatch(name) or name.endswith("/"):
            raise UnknownModelError(
                f"model {name!r} is not a well-formed litellm model string (provider/model, no spaces)"
            )
        provider = name.split("/", 1)[0]
        known = _known_providers()
        if provider not in known and provider in plugin_names():
            return _litellm_endpoint(name, source="plugin")
        if provider not in known:
            hint = _suggest(provider, known)
            raise UnknownModelError(
                f"model {name!r}: unknown provider {provider!r}{hint}; use a name from models.yaml, "
                f"a simulator model ({', '.join(SIMULATED_MODELS)}) or provider/model"
            )
        return _litellm_endpoint(name)
    info = price_map().get(name)
    if isinstance(info, dict) and info.get("litellm_provider"):
        provider = str(info["litellm_provider"])
        return _litellm_endpoint(f"{provider}/{name}")
    candidates = list(configured) + list(SIMULATED_MODELS)
    hint = _suggest(name, candidates)
    raise UnknownModelError(
        f"unknown model {name!r}{hint}; use a name from models.yaml, a simulator model "
        f"({', '.join(SIMULATED_MODELS)}) or a litellm model string such as openai/gpt-4o-mini"
    )


def _suggest(name: str, candidates: Any) -> str:
    try:
        from rapidfuzz import process

        match = process.extractOne(name, list(candidates), score_cutoff=70)
    except ImportError:
        return ""
    return f" (did you mean {match[0]!r}?)" if match else ""


def default_models(ws: Workspace) -> list[str]:
    """Models to preselect: configured and keyed ones when there are any, else the simulator's."""
    picks: list[str] = []
    try:
        configured = load_endpoints(ws)
    except ModelConfigError:
        configured = {}
    for endpoint in configured.values():
        if endpoint.api_key_env is None or api_key(endpoint, ws):
            picks.append(endpoint.name)
    for provider in providers_with_keys(ws):
        model = PROVIDER_DEFAULT_MODEL.get(provider)
        if model:
            picks.append(model)
    return picks or list(SIMULATED_MODELS)
