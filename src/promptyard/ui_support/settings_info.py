"""What the Settings page shows about a workspace: paths, database, which keys are set.

Never a key's value: only provider names and the names of the variables that hold them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from promptyard.workspace import Workspace


@dataclass(frozen=True)
class EndpointKey:
    name: str  # the models.yaml endpoint
    env: str  # the NAME of the variable holding its key
    present: bool


@dataclass(frozen=True)
class SettingsOverview:
    root: str
    database_url: str  # with any password masked
    providers_with_keys: list[str]
    endpoint_keys: list[EndpointKey] = field(default_factory=list)
    ratings_version: str | None = None
    problems: list[str] = field(default_factory=list)


def masked_url(url: str) -> str:
    """A database URL with its password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a valid database URL)"


def settings_overview(ws: Workspace) -> SettingsOverview:
    """The workspace's path, database URL (password masked), providers with keys (names
    only), models.yaml endpoints and whether their key variable is set, ratings version."""
    from promptyard import models, ratings
    from promptyard.errors import PromptyardError

    problems: list[str] = []
    endpoint_keys: list[EndpointKey] = []
    try:
        for endpoint in models.load_endpoints(ws).values():
            if endpoint.api_key_env:
                present = models.api_key(endpoint, ws) is not None
                endpoint_keys.append(EndpointKey(endpoint.name, endpoint.api_key_env, present))
    except PromptyardError as exc:
        problems.append(str(exc))
    return SettingsOverview(
        root=str(ws.root),
        database_url=masked_url(ws.database_url),
        providers_with_keys=models.providers_with_keys(ws),
        endpoint_keys=endpoint_keys,
        ratings_version=ratings.scheme_version(ws),
        problems=problems,
    )


class KeyStatus(StrEnum):
    """Whether a model's key is there; never the key itself."""

    SET = "set"
    NOT_SET = "not set"
    NOT_NEEDED = "not needed"


@dataclass(frozen=True)
class ModelRow:
    """One model the workspace can use, as the Settings page lists it.

    Prices are USD per 1M tokens; None is unknown (shown "—", never 0).
    """

    name: str
    source: str  # "simulator" | "models.yaml" | "litellm" | "plugin"
    model: str  # the litellm model string sent
    input_per_million: float | None
    output_per_million: float | None
    context_window: int | None
    key_variable: str | None  # the NAME of the variable holding the key
    key_status: KeyStatus


def _window(endpoint: Any) -> int | None:
    from promptyard import models

    if endpoint.simulated and endpoint.name in models.SIMULATED_MODELS:
        return int(models.SIMULATED_MODELS[endpoint.name].context_window)
    info = models.model_info(endpoint.litellm_model) or {}
    for field_name in ("max_input_tokens", "max_tokens"):
        value = info.get(field_name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def _prices(endpoint: Any) -> tuple[float | None, float | None]:
    """USD per 1M tokens in and out, each side on its own (one may be known alone)."""
    from promptyard import models

    # estimate_cost knows every source's prices (overrides, simulator, litellm's map); it
    # is asked per side with the other side priced at 0 so one unknown hides nothing
    def side(inp: bool) -> float | None:
        price = endpoint.input_cost_per_token if inp else endpoint.output_cost_per_token
        if price is not None:
            return float(price) * 1_000_000
        probe = replace(
            endpoint,
            input_cost_per_token=None if inp else 0.0,
            output_cost_per_token=0.0 if inp else None,
        )
        return models.estimate_cost(probe, 1_000_000 if inp else 0, 0 if inp else 1_000_000)

    return side(True), side(False)


def model_rows(ws: Workspace) -> tuple[list[ModelRow], list[str]]:
    """Every model the workspace can use now (simulator, models.yaml, the litellm models
    of providers whose key is set), with prices, context window and key status; and the
    problems found (a broken models.yaml: its models are left out, the rest listed)."""
    from promptyard import models
    from promptyard.errors import PromptyardError

    problems: list[str] = []
    try:
        catalog = models.load_catalog(ws)
    except PromptyardError as exc:
        problems.append(str(exc))
        catalog = [models.simulated_endpoint(n) for n in models.SIMULATED_MODELS]
        for provider in models.providers_with_keys(ws):
            for name in _provider_models(provider):
                try:
                    catalog.append(models.resolve_among({}, name))
                except PromptyardError:
                    continue
    rows = []
    for endpoint in catalog:
        variable = endpoint.api_key_env or models.PROVIDER_KEY_ENV.get(endpoint.provider or "")
        if endpoint.simulated or not variable:
            status = KeyStatus.NOT_NEEDED
        else:
            status = KeyStatus.SET if models.api_key(endpoint, ws) else KeyStatus.NOT_SET
        inp, out = _prices(endpoint)
        rows.append(
            ModelRow(
                name=endpoint.name,
                source=endpoint.source,
                model=endpoint.litellm_model,
                input_per_million=inp,
                output_per_million=out,
                context_window=_window(endpoint),
                key_variable=None if endpoint.simulated else variable,
                key_status=status,
            )
        )
    return rows, problems


def _provider_models(provider: str) -> list[str]:
    from promptyard import models

    return [
        key if key.startswith(provider + "/") else f"{provider}/{key}"
        for key, info in models.price_map().items()
        if isinstance(info, dict)
        and info.get("litellm_provider") == provider
        and info.get("mode") in (None, "chat")
    ]
