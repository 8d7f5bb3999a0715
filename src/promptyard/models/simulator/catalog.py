"""The simulated models: names, simulated prices, context windows and answer styles."""

from __future__ import annotations

from dataclasses import dataclass

SIMULATOR_URL_ENV = "PROMPTYARD_SIMULATOR_URL"
SIMULATOR_LATENCY_ENV = "PROMPTYARD_SIMULATOR_LATENCY_MS"
REPEAT_USER_PREFIX = "promptyard-repeat-"
REPEAT_HEADER = "X-Promptyard-Repeat"  # the repeat index, sent by providers.complete
#: the key `promptyard simulate --api-key` wants; simulated models send it when it is set
SIMULATOR_KEY_ENV = "PROMPTYARD_SIMULATOR_KEY"


@dataclass(frozen=True)
class SimModel:
    """A simulated model: its name, simulated prices and behaviour."""

    name: str
    input_cost_per_token: float
    output_cost_per_token: float
    context_window: int
    description: str
    latency_factor: float = 1.0
    words: int = 40  # typical answer length
    always_json: bool = False
    echo: bool = False  # the answer is the rendered prompt (promptfoo's `echo` provider)


SIMULATED_MODELS: dict[str, SimModel] = {
    m.name: m
    for m in (
        SimModel(
            "sim-fast",
            0.15e-6,
            0.60e-6,
            16_384,
            "simulated: short, fast answers",
            latency_factor=1.0,
            words=28,
        ),
        SimModel(
            "sim-smart",
            2.50e-6,
            10.00e-6,
            128_000,
            "simulated: longer, more detailed answers",
            latency_factor=2.0,
            words=70,
        ),
        SimModel(
            "sim-json",
            0.50e-6,
            1.50e-6,
            32_768,
            "simulated: always answers with a JSON object",
            latency_factor=1.2,
            words=20,
            always_json=True,
        ),
        SimModel(
            "echo",
            0.0,
            0.0,
            1_000_000,
            "simulated: answers with the rendered prompt itself (promptfoo's echo), instantly",
            latency_factor=0.0,
            echo=True,
        ),
    )
}
