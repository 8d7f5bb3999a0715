"""Faults a running simulator can inject, and the error responses a real provider sends."""

from __future__ import annotations

import math
import random
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from promptyard.models.simulator.catalog import SIMULATED_MODELS, SimModel


@dataclass
class Faults:
    """Faults to inject; mutable, so a test can flip them on a running server."""

    rate_limit: bool = False  # 429 with Retry-After
    retry_after_s: float = 1.0
    server_error: int | None = None  # 500 or 503 on every call
    hang: bool = False  # accept the request and never answer
    malformed_json: bool = False  # 200 whose body (or stream chunk) is not JSON
    truncated_stream: bool = False  # stream stops mid-way: no finish_reason, no [DONE]
    slow_first_byte_ms: float = 0.0  # delay before the first byte
    fail_first: int = 0  # the next N calls fail with 500, then calls succeed
    error_rate: float = 0.0  # random 429/500/503 with this probability
    auth: bool = False  # 401
    echo_auth_in_error: bool = False  # 401 whose message repeats the Authorization header
    bad_request: bool = False  # 400
    context_window: bool = False  # 400 context_length_exceeded
    content_filter: bool = False  # 400 content_policy_violation
    no_usage: bool = False  # answer without token usage (as some local servers do)
    filtered_output: bool = False  # 200 with finish_reason "content_filter" and no text

    def clear(self) -> None:
        """Switch every fault off."""
        fresh = Faults()
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(fresh, name))


def _error_body(
    message: str, type_: str, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _rate_limited(
    retry_after_s: float, message: str = "Simulated rate limit: too many requests."
) -> Any:
    from aiohttp import web

    return web.json_response(
        _error_body(message, "rate_limit_error", "rate_limit_exceeded"),
        status=429,
        # Retry-After is whole seconds (RFC 9110; urllib3 refuses a fraction), rounded up
        # so a client never comes back early; the exact wait is in OpenAI's retry-after-ms
        headers={
            "Retry-After": str(max(0, math.ceil(retry_after_s))),
            "retry-after-ms": str(max(0, math.ceil(retry_after_s * 1000))),
        },
    )


class RpsLimiter:
    """Answers 429 above `rps` requests in any one second (None: no limit)."""

    def __init__(self, rps: float | None) -> None:
        self.rps = rps
        self._recent: deque[float] = deque()

    def wait(self) -> float | None:
        """Seconds until a slot frees when more than `rps` requests came in the last second."""
        if not self.rps:
            return None
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) >= self.rps:
            return max(0.05, 1.0 - (now - self._recent[0]))
        self._recent.append(now)
        return None


def fault_response(
    faults: Faults,
    limiter: RpsLimiter,
    rand: random.Random,
    authorization: str | None,
    spec: SimModel | None,
    model: str,
    prompt_tokens: int,
) -> Any:
    """The error response the switched-on faults (or the request itself) call for, else None.

    Checked in a fixed order, so a test that switches on two faults knows which one answers.
    """
    from aiohttp import web

    f = faults
    if f.fail_first > 0:
        f.fail_first -= 1
        return web.json_response(
            _error_body("The simulated server had an error (fail_first).", "server_error"),
            status=500,
        )
    if f.server_error:
        return web.json_response(
            _error_body(f"Simulated {f.server_error} error.", "server_error"),
            status=f.server_error,
        )
    if f.rate_limit:
        return _rate_limited(f.retry_after_s)
    wait = limiter.wait()
    if wait is not None:
        return _rate_limited(wait, f"Rate limit of {limiter.rps:g} requests per second reached.")
    if f.error_rate and rand.random() < f.error_rate:
        status = rand.choice([429, 500, 503])
        if status == 429:
            return _rate_limited(f.retry_after_s)
        return web.json_response(
            _error_body(f"Simulated random {status}.", "server_error"), status=status
        )
    if f.auth or f.echo_auth_in_error:
        shown = authorization or "" if f.echo_auth_in_error else "sk-...."
        return web.json_response(
            _error_body(
                f"Incorrect API key provided: {shown}.",
                "invalid_request_error",
                "invalid_api_key",
            ),
            status=401,
        )
    if spec is None:
        return web.json_response(
            _error_body(
                f"The model `{model}` does not exist; the simulator serves {', '.join(SIMULATED_MODELS)}.",
                "invalid_request_error",
                "model_not_found",
                "model",
            ),
            status=404,
        )
    if f.bad_request:
        return web.json_response(
            _error_body(
                "Simulated bad request: 'temperature' is invalid.", "invalid_request_error"
            ),
            status=400,
        )
    if f.context_window or prompt_tokens > spec.context_window:
        return web.json_response(
            _error_body(
                f"This model's maximum context length is {spec.context_window} tokens. "
                f"However, your messages resulted in {prompt_tokens} tokens. "
                "Please reduce the length of the messages.",
                "invalid_request_error",
                "context_length_exceeded",
            ),
            status=400,
        )
    if f.content_filter:
        return web.json_response(
            _error_body(
                "Your request was rejected as a result of our safety system (content_policy_violation).",
                "invalid_request_error",
                "content_policy_violation",
            ),
            status=400,
        )
    return None
