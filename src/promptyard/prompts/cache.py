"""The per-process cache of `get_prompt`: an entry lives for a TTL, and dies sooner when
the files it was read from change (a stat of each) or a save in this process forgets it."""

from __future__ import annotations

import copy
import os
import threading
import time
from collections.abc import Hashable
from pathlib import Path

from promptyard.errors import PromptyardError
from promptyard.prompts.template import PromptTemplate

TTL_ENV = "PROMPTYARD_PROMPT_TTL"
DEFAULT_TTL_S = 60.0

Signature = tuple[tuple[int, int] | None, ...]

_entries: dict[Hashable, tuple[float, Signature, PromptTemplate]] = {}
_lock = threading.Lock()


def cache_ttl(given: float | None = None) -> float:
    """The TTL in seconds: `given`, else `$PROMPTYARD_PROMPT_TTL`, else 60. 0 turns caching off."""
    where = "cache_ttl"
    value: object = given
    if given is None:
        raw = os.environ.get(TTL_ENV)
        if raw is None or not raw.strip():
            return DEFAULT_TTL_S
        where = f"${TTL_ENV}"
        try:
            value = float(raw)
        except ValueError:
            raise PromptyardError(
                f"{where}={raw!r} is not a number of seconds (0 turns the prompt cache off)"
            ) from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise PromptyardError(
            f"{where} must be a number of seconds >= 0 (0 turns the prompt cache off), got {value!r}"
        )
    return float(value)


def file_signature(*paths: Path) -> Signature:
    """What a stat of each file says (mtime, size); None for a missing file."""
    out: list[tuple[int, int] | None] = []
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            out.append(None)
        else:
            out.append((st.st_mtime_ns, st.st_size))
    return tuple(out)


def cached(key: Hashable, signature: Signature, ttl: float) -> PromptTemplate | None:
    """A copy of the entry for `key`, when it is younger than `ttl` (this caller's) and the
    files it was read from are unchanged."""
    entry = _entries.get(key)
    if entry is None or ttl <= 0:
        return None
    stored_at, seen, template = entry
    if time.monotonic() - stored_at >= ttl or seen != signature:
        with _lock:
            _entries.pop(key, None)
        return None
    return copy.copy(template)  # a caller that sets a field must not change the next caller's


def remember(key: Hashable, signature: Signature, ttl: float, template: PromptTemplate) -> None:
    """Keep `template`, read now (nothing when `ttl` is 0: caching is off)."""
    if ttl <= 0:
        return
    with _lock:
        _entries[key] = (time.monotonic(), signature, copy.copy(template))


def forget_prompts() -> None:
    """Empty the cache: every save, delete, restore and label move in this process calls it."""
    with _lock:
        _entries.clear()
