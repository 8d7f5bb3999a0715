"""Fine-tuning data from human feedback: OpenAI chat (SFT) and preference (DPO) JSONL.

Supervised examples come from cells whose human rating or suite score clears a bar and
from traces with good end-user feedback; preference pairs from blind A/B votes (and from
traces that answered the same input well and badly). Every export is checked the way
OpenAI's data-preparation cookbook checks, counted in tokens and priced.
"""

from promptyard.finetune.collect import Collected
from promptyard.finetune.export import (
    DEFAULT_MIN_SCORE,
    FinetuneError,
    FinetuneExport,
    build_finetune,
    write_finetune,
)
from promptyard.finetune.pricing import (
    DEFAULT_MODEL,
    TRAINING_PRICES,
    CostEstimate,
    TrainingPrice,
    default_epochs,
    estimate_training_cost,
    training_price,
)
from promptyard.finetune.validate import FinetuneFormat, Validation, read_jsonl, validate_examples

__all__ = [
    "DEFAULT_MIN_SCORE",
    "DEFAULT_MODEL",
    "TRAINING_PRICES",
    "Collected",
    "CostEstimate",
    "FinetuneError",
    "FinetuneExport",
    "FinetuneFormat",
    "TrainingPrice",
    "Validation",
    "build_finetune",
    "default_epochs",
    "estimate_training_cost",
    "read_jsonl",
    "training_price",
    "validate_examples",
    "write_finetune",
]
