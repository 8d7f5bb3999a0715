"""Secrets out of span attributes before they are stored.

An attribute whose key names a key, token, password, cookie or authorization header keeps
its key with the value `***`; in every other string, Bearer tokens, `sk-...` keys,
`api-key: ...` pairs and the values of the provider key variables set here become `***`.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Any

from promptyard.models import PROVIDER_KEY_ENV, scrub

MASK = "***"
# The last dot-separated segment of the key ends with one of these words.
_SECRET_KEY = re.compile(
    r"(?i)(?:^|[_\-])(?:api[_\-]?key|apikey|secret|token|password|passwd|pwd|authorization"
    r"|auth|cookie|set[_\-]cookie|credentials?|private[_\-]key|signature)$"
)
# Cheap first look (plain substring tests on the lower-cased text, faster than a regex):
# only strings that may hold a secret go through the full scrub.
_MAYBE_SECRET = ("sk-", "bearer", "key", "token", "authorization")


@lru_cache(maxsize=8192)  # the same few hundred keys come in every span
def secret_key(key: str) -> bool:
    """Whether an attribute key names a secret (`http.request.header.authorization`, `api_key`)."""
    return bool(_SECRET_KEY.search(key.rsplit(".", 1)[-1]))


def _env_secrets() -> list[str]:
    values = (os.environ.get(env) for env in PROVIDER_KEY_ENV.values())
    return [v for v in values if v and len(v) >= 8]


def scrub_text(text: str, secrets: list[str]) -> str:
    """`text` with tokens, keys and the given secret values replaced by `***`."""
    low = text.lower()
    if any(w in low for w in _MAYBE_SECRET) or (secrets and any(s in text for s in secrets)):
        return scrub(text, secrets)
    return text


def _clean(key: str, value: Any, secrets: list[str], depth: int = 0) -> Any:
    if isinstance(value, str):
        return MASK if secret_key(key) else scrub_text(value, secrets)
    if isinstance(value, list):
        return [_clean(key, v, secrets, depth + 1) for v in value]
    if isinstance(value, dict) and depth < 16:
        return {k: _clean(str(k), v, secrets, depth + 1) for k, v in value.items()}
    return value


def scrub_attributes(
    attributes: dict[str, Any], secrets: list[str] | None = None
) -> dict[str, Any]:
    """A copy of `attributes` with every secret masked (see the module docstring)."""
    found = _env_secrets() if secrets is None else secrets
    return {k: _clean(k, v, found) for k, v in attributes.items()}


def request_secrets() -> list[str]:
    """The provider key values set in this process's environment (scrubbed wherever seen)."""
    return _env_secrets()
