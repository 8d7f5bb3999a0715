"""An offline OpenAI-compatible model server: first runs, demos, tests and benchmarks.

`start_simulator()` serves `/v1/chat/completions` (plain and SSE streaming, `n` choices,
tools and `tool_choice`, `stop`, `logprobs`), `/v1/models` and `/v1/models/{id}`,
`/v1/embeddings` and the legacy `/v1/completions` on 127.0.0.1 from a background thread,
refusing what OpenAI refuses with OpenAI's error JSON. Its answers derive deterministically
from the request (model, messages, temperature, repeat index), look plausible for the
prompt (a summary for a summarize prompt, JSON with the asked-for keys for a JSON prompt),
carry token usage, and are priced at the simulated prices in `SIMULATED_MODELS`.

Faults (`Faults`) can be switched on and off on a running server, so tests can provoke
every error a real provider produces: 429 with Retry-After, 500/503, hangs, malformed
JSON, truncated streams, a slow first byte.

The names are imported from their modules on first use (PEP 562): the model catalog reads
the simulated prices (`catalog`) without loading the server or its answers.
"""

import pkgutil
from typing import TYPE_CHECKING

from promptyard.lazy_names import lazy_face

_HOMES = {
    **dict.fromkeys(["simulated_answer"], "promptyard.models.simulator.answers"),
    **dict.fromkeys(
        [
            "REPEAT_HEADER",
            "REPEAT_USER_PREFIX",
            "SIMULATED_MODELS",
            "SIMULATOR_KEY_ENV",
            "SIMULATOR_LATENCY_ENV",
            "SIMULATOR_URL_ENV",
            "SimModel",
        ],
        "promptyard.models.simulator.catalog",
    ),
    **dict.fromkeys(["Faults"], "promptyard.models.simulator.faults"),
    **dict.fromkeys(
        [
            "SimulatorHandle",
            "ensure_simulator",
            "request_key",
            "shared_simulator",
            "start_simulator",
        ],
        "promptyard.models.simulator.server",
    ),
}

if TYPE_CHECKING:
    from promptyard.models.simulator.answers import simulated_answer
    from promptyard.models.simulator.catalog import (
        REPEAT_HEADER,
        REPEAT_USER_PREFIX,
        SIMULATED_MODELS,
        SIMULATOR_KEY_ENV,
        SIMULATOR_LATENCY_ENV,
        SIMULATOR_URL_ENV,
        SimModel,
    )
    from promptyard.models.simulator.faults import Faults
    from promptyard.models.simulator.server import (
        SimulatorHandle,
        ensure_simulator,
        request_key,
        shared_simulator,
        start_simulator,
    )

__all__ = [
    "REPEAT_HEADER",
    "REPEAT_USER_PREFIX",
    "SIMULATED_MODELS",
    "SIMULATOR_KEY_ENV",
    "SIMULATOR_LATENCY_ENV",
    "SIMULATOR_URL_ENV",
    "Faults",
    "SimModel",
    "SimulatorHandle",
    "ensure_simulator",
    "request_key",
    "shared_simulator",
    "simulated_answer",
    "start_simulator",
]

# Submodules by attribute too, as when this face imported them all.
_SUBMODULES = [m.name for m in pkgutil.iter_modules(__path__)]

__getattr__, __dir__ = lazy_face(__name__, _HOMES, __all__, _SUBMODULES)
