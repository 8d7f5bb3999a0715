"""The lean path's failures, named as the `openai` SDK names them.

`errors.error_kind` matches exceptions by class name and status code, so a failure of the
lean path gets the same error kind (and `errors.retry_after` the same wait) as the SDK's
exception for the same answer would, without importing the SDK.
"""

from __future__ import annotations

import json
from typing import Any


class APIError(Exception):
    """A failed call; `headers` are the answer's (for Retry-After), when there was one."""

    status_code: int | None = None

    def __init__(self, message: str, headers: Any = None) -> None:
        super().__init__(message)
        self.headers = headers


class APIConnectionError(APIError):
    """No answer: the connection could not be made or broke."""


class APITimeoutError(APIConnectionError):
    """No answer in time."""


class APIStatusError(APIError):
    """The server answered with an error status."""

    def __init__(self, message: str, status_code: int, headers: Any = None) -> None:
        super().__init__(message, headers)
        self.status_code = status_code


class BadRequestError(APIStatusError):
    pass


class AuthenticationError(APIStatusError):
    pass


class PermissionDeniedError(APIStatusError):
    pass


class NotFoundError(APIStatusError):
    pass


class ConflictError(APIStatusError):
    pass


class UnprocessableEntityError(APIStatusError):
    pass


class RateLimitError(APIStatusError):
    pass


class InternalServerError(APIStatusError):
    pass


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error(status: int, body: bytes, headers: Any) -> APIStatusError:
    """The exception for an error answer: `Error code: 429 - {...}`, as the SDK says it."""
    text = body.decode("utf-8", "replace").strip()
    try:
        message = f"Error code: {status} - {json.loads(text)}"
    except ValueError:
        message = text or f"Error code: {status}"
    cls = _BY_STATUS.get(status) or (InternalServerError if status >= 500 else APIStatusError)
    return cls(message, status, headers)


def stream_error(data: dict[str, Any]) -> APIError:
    """The exception for an `error` event inside a stream."""
    error = data.get("error")
    message = error.get("message") if isinstance(error, dict) else None
    return APIError(str(message or "An error occurred during streaming"))
