"""What a call costs: litellm's bundled price map (read as JSON, litellm is not imported),
the simulator's simulated prices, and the price overrides of models.yaml.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from promptyard.models.endpoints import ModelEndpoint
from promptyard.models.simulator.catalog import SIMULATED_MODELS
from promptyard.models.simulator.prices import register_with_litellm


def register_simulated_prices() -> bool:
    """Tell an already imported litellm the simulated models' prices (so its
    `completion_cost` prices them); never imports litellm. False when it is not imported."""
    return register_with_litellm()


@lru_cache(maxsize=1)
def price_map() -> dict[str, Any]:
    """litellm's bundled model price and context-window map, read as JSON (no litellm import)."""
    spec = find_spec("litellm")
    if not spec or not spec.origin:
        return {}
    path = Path(spec.origin).parent / "model_prices_and_context_window_backup.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    data.pop("sample_spec", None)
    return data


def model_info(model: str) -> dict[str, Any] | None:
    """The price-map entry for a litellm model string, with or without its provider prefix."""
    prices = price_map()
    info = prices.get(model)
    if info is None and "/" in model:
        provider, bare = model.split("/", 1)
        info = prices.get(bare)
        if isinstance(info, dict) and info.get("litellm_provider") not in (provider, None):
            info = prices.get(bare) if provider in ("openai", "text-completion-openai") else None
    return info if isinstance(info, dict) else None


def estimate_cost(
    endpoint: ModelEndpoint, prompt_tokens: int | None, completion_tokens: int | None
) -> float | None:
    """USD for that many tokens: the endpoint's prices, else litellm's map; None when unknown."""
    if prompt_tokens is None or completion_tokens is None:
        return None
    inp, out = endpoint.input_cost_per_token, endpoint.output_cost_per_token
    if inp is None or out is None:
        if endpoint.simulated:
            spec = SIMULATED_MODELS.get(endpoint.name)
            if spec:
                inp = spec.input_cost_per_token if inp is None else inp
                out = spec.output_cost_per_token if out is None else out
        elif endpoint.api_base is None or endpoint.source != "models.yaml":
            info = model_info(endpoint.litellm_model) or {}
            if inp is None and isinstance(info.get("input_cost_per_token"), int | float):
                inp = float(info["input_cost_per_token"])
            if out is None and isinstance(info.get("output_cost_per_token"), int | float):
                out = float(info["output_cost_per_token"])
    if inp is None or out is None:
        return None
    return prompt_tokens * inp + completion_tokens * out
