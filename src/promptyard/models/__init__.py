"""Models: the catalog, pricing, providers and the offline simulator.

    from promptyard.models import ModelCall, complete, resolve_model

    endpoint = resolve_model(ws, "sim-fast")  # the engine's ModelEndpoint

`promptyard.resolve_model(prompt)` (in `models.resolve`) is the application's view of the
same: base URL, model id, key env var, parameters (a `ResolvedModel`).
    completion = await complete(ModelCall(endpoint, messages, {"temperature": 0.2}))

Importing this package imports neither litellm nor the `openai` SDK.
"""

from promptyard.models.bundling import BundleReport, write_bundle
from promptyard.models.catalog import (
    PROVIDER_DEFAULT_MODEL,
    ModelConfigError,
    UnknownModelError,
    default_models,
    load_catalog,
    load_endpoints,
    resolve_among,
    resolve_model,
    simulated_endpoint,
)
from promptyard.models.editing import (
    ConnectionCheck,
    ModelForm,
    ModelFormError,
    check_model_form,
    endpoint_of,
    form_of,
    models_version,
    save_model,
    test_connection,
)
from promptyard.models.endpoints import (
    PROVIDER_KEY_ENV,
    ModelEndpoint,
    api_key,
    providers_with_keys,
)
from promptyard.models.pricing import (
    estimate_cost,
    model_info,
    price_map,
    register_simulated_prices,
)
from promptyard.models.providers import (
    ENTRY_POINT_GROUP,
    RETRYABLE_KINDS,
    Completion,
    ErrorKind,
    ModelCall,
    Provider,
    ProviderFactory,
    ProviderKind,
    UnknownProviderError,
    complete,
    missing_key,
    missing_key_message,
    plugin_names,
    provider_for,
    provider_kind,
    reset_providers,
    scrub,
)
from promptyard.models.resolve import ResolvedModel
from promptyard.models.simulator import (
    REPEAT_HEADER,
    SIMULATED_MODELS,
    SIMULATOR_KEY_ENV,
    SIMULATOR_URL_ENV,
    Faults,
    SimModel,
    SimulatorHandle,
    ensure_simulator,
    request_key,
    shared_simulator,
    start_simulator,
)
from promptyard.models.warmup import WarmUp, start_warm_up, warm_up

__all__ = [
    "ENTRY_POINT_GROUP",
    "BundleReport",
    "PROVIDER_DEFAULT_MODEL",
    "PROVIDER_KEY_ENV",
    "REPEAT_HEADER",
    "RETRYABLE_KINDS",
    "SIMULATED_MODELS",
    "SIMULATOR_KEY_ENV",
    "SIMULATOR_URL_ENV",
    "Completion",
    "ConnectionCheck",
    "ErrorKind",
    "Faults",
    "ModelCall",
    "ModelConfigError",
    "ModelEndpoint",
    "ModelForm",
    "ModelFormError",
    "Provider",
    "ProviderFactory",
    "ProviderKind",
    "ResolvedModel",
    "WarmUp",
    "SimModel",
    "SimulatorHandle",
    "UnknownModelError",
    "UnknownProviderError",
    "api_key",
    "check_model_form",
    "complete",
    "endpoint_of",
    "form_of",
    "models_version",
    "save_model",
    "test_connection",
    "missing_key",
    "missing_key_message",
    "default_models",
    "ensure_simulator",
    "estimate_cost",
    "load_catalog",
    "load_endpoints",
    "model_info",
    "plugin_names",
    "price_map",
    "provider_for",
    "provider_kind",
    "providers_with_keys",
    "register_simulated_prices",
    "request_key",
    "resolve_among",
    "resolve_model",
    "reset_providers",
    "scrub",
    "shared_simulator",
    "simulated_endpoint",
    "start_simulator",
    "start_warm_up",
    "warm_up",
    "write_bundle",
]
