"""Provider failures in words a user can act on: the error kind of an exception, the wait a
provider asked for (Retry-After), and messages scrubbed of keys and tokens.

Exceptions are matched by class name (and status code), so the `openai` SDK's, litellm's
and a plugin's exceptions map alike without importing either library.
"""

from __future__ import annotations

import email.utils
import math
import os
import re
import time
from collections.abc import Iterable
from typing import Any

from promptyard.models.endpoints import PROVIDER_KEY_ENV
from promptyard.models.providers.base import ErrorKind

_SECRET_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=\-]{4,}"),
    re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}"),
    re.compile(
        r"(?i)((?:api[_-]?key|x-api-key|token|authorization)[\"']?\s*[:=]\s*[\"']?)[A-Za-z0-9._~+/=\-]{8,}"
    ),
]


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with key values, Bearer tokens and sk-... patterns replaced by `***`."""
    known = {s for s in secrets if s and len(s) >= 4}
    for env in PROVIDER_KEY_ENV.values():
        value = os.environ.get(env)
        if value and len(value) >= 4:
            known.add(value)
    for secret in sorted(known, key=len, reverse=True):
        text = text.replace(secret, "***")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", text)
    return text


_BY_CLASS: list[tuple[str, ErrorKind]] = [
    ("ContextWindowExceededError", ErrorKind.CONTEXT_WINDOW),
    ("ContentPolicyViolationError", ErrorKind.CONTENT_FILTER),
    ("RateLimitError", ErrorKind.RATE_LIMIT),
    ("Timeout", ErrorKind.TIMEOUT),
    ("APITimeoutError", ErrorKind.TIMEOUT),
    ("TimeoutError", ErrorKind.TIMEOUT),
    ("AuthenticationError", ErrorKind.AUTH),
    ("PermissionDeniedError", ErrorKind.AUTH),
    ("JSONDecodeError", ErrorKind.INVALID_RESPONSE),
    ("APIResponseValidationError", ErrorKind.INVALID_RESPONSE),
    ("InternalServerError", ErrorKind.SERVER),
    ("ServiceUnavailableError", ErrorKind.SERVER),
    ("BadGatewayError", ErrorKind.SERVER),
    ("APIConnectionError", ErrorKind.CONNECTION),
    ("BadRequestError", ErrorKind.BAD_REQUEST),
    ("NotFoundError", ErrorKind.BAD_REQUEST),
    ("UnprocessableEntityError", ErrorKind.BAD_REQUEST),
    ("UnsupportedParamsError", ErrorKind.BAD_REQUEST),
]
_INVALID_HINTS = re.compile(
    r"(?i)(json ?decode|expecting value|unterminated string|invalid json|expecting ',' delimiter|"
    r"expecting property name|extra data|not valid json|unexpected eof|incomplete chunked|"
    r"stream ended before|midstreamfallback)"
)
_CONNECTION_HINTS = re.compile(
    r"(?i)(connection error|cannot connect|connection refused|connect call failed|"
    r"name or service not known|server disconnected|connection reset)"
)


_AUTH_HINTS = re.compile(
    r"(?i)(missing credentials|api_key client option must be set|no api key|"
    r"incorrect api key|invalid api key|invalid_api_key|authentication)"
)


def error_kind(exc: BaseException) -> ErrorKind:
    """The error kind of an exception raised by the openai SDK, litellm or the transport under them."""
    names = [c.__name__ for c in type(exc).__mro__]
    message = f"{type(exc).__name__} {exc}"
    if not {"RateLimitError", "Timeout", "APITimeoutError"}.intersection(names) and (
        _AUTH_HINTS.search(message)
    ):
        return ErrorKind.AUTH  # a missing or rejected key: never worth retrying
    if {"Timeout", "APITimeoutError", "TimeoutError"}.intersection(names):
        return ErrorKind.TIMEOUT
    wrapped = {"APIConnectionError", "APIError", "InternalServerError", "MidStreamFallbackError"}
    if wrapped.intersection(names) and "RateLimitError" not in names:
        if _INVALID_HINTS.search(message) or _caused_by(exc, ValueError):
            return ErrorKind.INVALID_RESPONSE
        if _CONNECTION_HINTS.search(message) or _caused_by(exc, OSError):
            return ErrorKind.CONNECTION
    for cls_name, kind in _BY_CLASS:
        if cls_name in names:
            if kind == ErrorKind.BAD_REQUEST:
                low = message.lower()
                if "context length" in low or "context_length_exceeded" in low:
                    return ErrorKind.CONTEXT_WINDOW
                if "content_policy" in low or "safety system" in low:
                    return ErrorKind.CONTENT_FILTER
            return kind
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        if status == 429:
            return ErrorKind.RATE_LIMIT
        if status in (401, 403):
            return ErrorKind.AUTH
        if status >= 500:
            return ErrorKind.SERVER
        if status >= 400:
            return ErrorKind.BAD_REQUEST
    if isinstance(exc, ValueError):
        return ErrorKind.INVALID_RESPONSE
    if isinstance(exc, OSError | ConnectionError):
        return ErrorKind.CONNECTION
    return ErrorKind.SERVER


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen = 0
    cur: BaseException | None = exc.__cause__ or exc.__context__
    while cur is not None and seen < 8:
        if isinstance(cur, kind) and not isinstance(cur, UnicodeError):
            return True
        cur = cur.__cause__ or cur.__context__
        seen += 1
    return False


def describe(exc: BaseException) -> str:
    """`Kind: message` for an exception, without litellm's repeated class-name prefixes."""
    message = " ".join(str(exc).split()) or type(exc).__name__
    message = re.sub(r"\blitellm\.(\w+)", r"\1", message)
    message = re.sub(r"^(?:\w+Error:\s*|\w*Exception\s*-\s*)+", "", message)
    message = message.split(" Original exception:", 1)[0]
    return f"{type(exc).__name__}: {message}"


def retry_after(exc: BaseException) -> float | None:
    """Seconds the provider asked us to wait (Retry-After / retry-after-ms), if it said."""
    headers: Any = None
    response = getattr(exc, "response", None)
    if response is not None:
        headers = getattr(response, "headers", None)
    if not headers:
        headers = getattr(exc, "litellm_response_headers", None) or getattr(exc, "headers", None)
    if not headers:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000)
        value = headers.get("retry-after")
    except (AttributeError, TypeError, ValueError):
        return None
    return _parse_retry_after(value)


def _parse_retry_after(value: Any) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
        return max(0.0, seconds) if math.isfinite(seconds) else None
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
