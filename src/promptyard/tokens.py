"""Token counts with tiktoken, offline (litellm ships the encodings; see `_env`)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from promptyard._env import configure_offline_defaults

# Chat formats add a few tokens per message for the role and separators.
TOKENS_PER_MESSAGE = 3


@lru_cache(maxsize=4)
def _encoding(name: str) -> Any:
    configure_offline_defaults()
    import tiktoken

    return tiktoken.get_encoding(name)


def encoding_name_for(model: str | None) -> str:
    """o200k_base for the GPT-4o/o-series/GPT-5 families, else cl100k_base."""
    lowered = (model or "").lower()
    if any(tag in lowered for tag in ("gpt-4o", "gpt-4.1", "gpt-5", "o1", "o3", "o4")):
        return "o200k_base"
    return "cl100k_base"


def count_text_tokens(text: str, model: str | None = None) -> int:
    """Tokens in `text` under the encoding of `model`."""
    if not text:
        return 0
    return len(_encoding(encoding_name_for(model)).encode(text, disallowed_special=()))


def count_message_tokens(messages: list[dict[str, str]], model: str | None = None) -> list[int]:
    """Tokens of each chat message, counting its role overhead."""
    return [count_text_tokens(m.get("content", ""), model) + TOKENS_PER_MESSAGE for m in messages]
