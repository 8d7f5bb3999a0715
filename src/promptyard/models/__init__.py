"""Models: the catalog, pricing, providers and the offline simulator."""

from promptyard.models.catalog import (
    PROVIDER_DEFAULT_MODEL,
    PROVIDER_KEY_ENV,
    ModelConfigError,
    ModelEndpoint,
    UnknownModelError,
    api_key,
    default_models,
    load_catalog,
    load_endpoints,
    providers_with_keys,
    resolve_model,
    simulated_endpoint,
)

__all__ = [
    "ModelConfigError",
    "ModelEndpoint",
    "PROVIDER_DEFAULT_MODEL",
    "PROVIDER_KEY_ENV",
    "UnknownModelError",
    "api_key",
    "default_models",
    "load_catalog",
    "load_endpoints",
    "providers_with_keys",
    "resolve_model",
    "simulated_endpoint",
]
