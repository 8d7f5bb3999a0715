"""Process-wide settings that must be in place before litellm or tiktoken load."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path


def configure_offline_defaults() -> None:
    """Use litellm's bundled price map and its bundled tiktoken encodings.

    litellm fetches its price map at import unless told otherwise, and tiktoken downloads
    encodings on first use; neither is possible offline. The user's own settings win.
    """
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        spec = importlib.util.find_spec("litellm")
        if spec and spec.origin:
            tokenizers = Path(spec.origin).parent / "litellm_core_utils" / "tokenizers"
            if tokenizers.is_dir():
                os.environ["TIKTOKEN_CACHE_DIR"] = str(tokenizers)
