"""What a fine-tuning job would cost: OpenAI's training prices and epoch defaults.

The table is OpenAI's published price per 1M training tokens and the longest example each
model trains on (the fine-tuning guide and pricing page, as read on 2026-12-01). A model
not in the table has an unknown price: the estimate says unknown, never $0. The epoch rule
and the billed tokens follow OpenAI's data-preparation cookbook ("Data preparation and
analysis for chat model fine-tuning"): 3 epochs, raised so that examples x epochs reaches
100 (at most 25 epochs) or lowered so it stays under 25,000 (at least 1); an example
longer than the model's limit is cut to it, and billed so.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MODEL = "gpt-4o-mini-2024-07-18"
TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES = 100
MAX_TARGET_EXAMPLES = 25_000
MIN_DEFAULT_EPOCHS = 1
MAX_DEFAULT_EPOCHS = 25


@dataclass(frozen=True)
class TrainingPrice:
    """One fine-tunable model: USD per 1M training tokens, and tokens per example."""

    model: str
    usd_per_million: float
    max_tokens_per_example: int


TRAINING_PRICES: dict[str, TrainingPrice] = {
    p.model: p
    for p in (
        TrainingPrice("gpt-4o-mini-2024-07-18", 3.00, 65_536),
        TrainingPrice("gpt-4o-2024-08-06", 25.00, 65_536),
        TrainingPrice("gpt-4.1-2025-04-14", 25.00, 65_536),
        TrainingPrice("gpt-4.1-mini-2025-04-14", 5.00, 65_536),
        TrainingPrice("gpt-4.1-nano-2025-04-14", 1.50, 65_536),
        TrainingPrice("gpt-3.5-turbo-0125", 8.00, 16_385),
    )
}
# The short names people type, to the snapshot OpenAI fine-tunes under that name.
ALIASES = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
    "gpt-3.5-turbo": "gpt-3.5-turbo-0125",
}
UNKNOWN_MAX_TOKENS = 16_385  # the cookbook's limit, for a model the table does not know


def training_price(model: str) -> TrainingPrice | None:
    """The model's row of the table (by name or alias; `openai/` prefix ignored), or None."""
    name = model.removeprefix("openai/")
    return TRAINING_PRICES.get(ALIASES.get(name, name))


def default_epochs(n_examples: int, n_epochs: int = TARGET_EPOCHS) -> int:
    """OpenAI's default epoch count for a dataset of `n_examples` (the cookbook's rule)."""
    if n_examples <= 0:
        return 0
    if n_examples * n_epochs < MIN_TARGET_EXAMPLES:
        return min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // n_examples)
    if n_examples * n_epochs > MAX_TARGET_EXAMPLES:
        return max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // n_examples)
    return n_epochs


@dataclass(frozen=True)
class CostEstimate:
    """Billed training tokens and their price; `usd` None when the price is unknown."""

    model: str
    epochs: int
    billed_tokens_per_epoch: int
    training_tokens: int
    usd: float | None


def estimate_training_cost(
    model: str, example_tokens: list[int], epochs: int | None = None
) -> CostEstimate:
    """What training `model` on examples of these token counts would bill, per the cookbook."""
    price = training_price(model)
    limit = price.max_tokens_per_example if price else UNKNOWN_MAX_TOKENS
    n_epochs = default_epochs(len(example_tokens)) if epochs is None else epochs
    billed = sum(min(limit, n) for n in example_tokens)
    total = billed * n_epochs
    usd = None if price is None else total * price.usd_per_million / 1_000_000
    return CostEstimate(model, n_epochs, billed, total, usd)
