"""Token counts with tiktoken, offline (litellm ships the encodings; see `_env`).

The one place that counts tokens: the editor's preview, plan estimates, providers that
report no usage, and the length evaluators all call here. It never imports litellm.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

from promptyard._env import configure_offline_defaults

_ENCODINGS = {"cl100k_base", "o200k_base"}  # the ones bundled for offline use
TOKENS_PER_MESSAGE = 3  # chat formats add a few tokens per message for role and separators


@lru_cache(maxsize=16)
def encoding_name(model: str | None) -> str:
    """tiktoken's encoding for `model` (a bare or provider-prefixed name); cl100k_base else."""
    import tiktoken

    bare = (model or "").rsplit("/", 1)[-1]
    try:
        name = tiktoken.encoding_name_for_model(bare)
    except KeyError:
        return "cl100k_base"
    return name if name in _ENCODINGS else "cl100k_base"


@lru_cache(maxsize=4)
def _get_encoding(name: str) -> Any:
    configure_offline_defaults()
    import tiktoken

    return tiktoken.get_encoding(name)


_encoding_lock = threading.Lock()


def _encoding(model: str | None) -> Any:
    with _encoding_lock:  # the first load reads a file; do it once
        return _get_encoding(encoding_name(model))


def count_text_tokens(text: str, model: str | None = None) -> int:
    """Tokens in `text` under the encoding of `model`."""
    if not text:
        return 0
    return len(_encoding(model).encode(text, disallowed_special=()))


def count_message_tokens(messages: list[dict[str, str]], model: str | None = None) -> list[int]:
    """Tokens of each chat message, counting its role overhead."""
    return [count_text_tokens(m.get("content", ""), model) + TOKENS_PER_MESSAGE for m in messages]


def count_tokens(messages_or_text: str | list[dict[str, Any]], model: str | None) -> int:
    """Tokens of a text, or of chat messages as a request (with the reply's priming)."""
    if isinstance(messages_or_text, str):
        return count_text_tokens(messages_or_text, model)
    enc = _encoding(model)
    total = 3  # every reply is primed with <|start|>assistant<|message|>
    for message in messages_or_text:
        total += TOKENS_PER_MESSAGE
        for key, value in message.items():
            if isinstance(value, str):
                total += len(enc.encode(value, disallowed_special=()))
            if key == "name":
                total += 1
    return total


def truncate_to_tokens(text: str, max_tokens: int, model: str | None = None) -> str:
    """The longest start of `text` that fits in `max_tokens` tokens."""
    enc = _encoding(model)
    return str(enc.decode(enc.encode(text, disallowed_special=())[:max_tokens]))
