"""The simulated models' prices, told to litellm, so `litellm.completion_cost` prices a
simulated answer as Promptyard does.

Only when litellm is imported already (by the user or by a call through it): registering
never imports litellm, so no start path pays for its import.
"""

from __future__ import annotations

import sys
import threading

from promptyard.models.simulator.catalog import SIMULATED_MODELS

_lock = threading.Lock()
_registered_in: set[int] = set()  # id() of the litellm modules told already


def register_with_litellm() -> bool:
    """Register every simulated model's price with an imported litellm (`register_model`,
    its public API), under `NAME` and `openai/NAME`. True when litellm knows them now;
    False when litellm is not imported (nothing is done)."""
    litellm = sys.modules.get("litellm")
    register = getattr(litellm, "register_model", None)
    if litellm is None or register is None:
        return False
    with _lock:
        if id(litellm) in _registered_in and all(
            m in getattr(litellm, "model_cost", {}) for m in SIMULATED_MODELS
        ):
            return True
        entries = {}
        for m in SIMULATED_MODELS.values():
            info = {
                "input_cost_per_token": m.input_cost_per_token,
                "output_cost_per_token": m.output_cost_per_token,
                # the simulator caches nothing: a cached token would cost a full one
                "cache_read_input_token_cost": m.input_cost_per_token,
                "cache_creation_input_token_cost": m.input_cost_per_token,
                "max_input_tokens": m.context_window,
                "max_tokens": m.context_window,
                "litellm_provider": "openai",
                "mode": "chat",
                "supports_function_calling": True,
            }
            entries[m.name] = info
            entries[f"openai/{m.name}"] = info
        register(entries)
        _registered_in.add(id(litellm))
    return True
