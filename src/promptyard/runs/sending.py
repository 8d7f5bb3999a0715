"""One attempt of one call, and the Completion of a call that raised, without the storage
layer: the run's workers (`runs.lanes`), the playground and a run's head start
(`runs.head_start`, which sends before the database is even opened) all send this way.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from promptyard.workspace import Workspace

if TYPE_CHECKING:
    from promptyard.guardrails import RunGuard
    from promptyard.models import Completion, ModelEndpoint

log = logging.getLogger(__name__)


async def send_once(
    ws: Workspace,
    endpoint: ModelEndpoint,
    parameters: dict[str, Any],
    messages_json: str,
    *,
    repeat: int,
    timeout_s: float,
    api_key: str,
    guard: RunGuard | None = None,
    variant_id: int = 0,
) -> Completion:
    """One attempt of a cell's call; a timeout or a provider's exception is an error
    Completion. `api_key` goes to this endpoint only ("": none). With `guard` (the run's
    guardrail policy, for variant `variant_id`) the call goes through it."""
    from promptyard.models import ErrorKind, ModelCall, complete

    call = ModelCall(
        endpoint=endpoint,
        messages=json.loads(messages_json),
        parameters=parameters,
        repeat=repeat,
        timeout_s=timeout_s,
        api_key=api_key,
    )
    t = time.monotonic()
    try:
        if guard is None:
            # Every provider bounds its call at `timeout_s` (a plugin's, in `complete`).
            return await complete(call)
        # A guarded call may make more than one (a judge, a second try): a bound in all,
        # so it never hangs a run.
        async with asyncio.timeout(timeout_s + 1.0):
            return await guard.complete(call, variant_id)
    except TimeoutError:
        return error_completion(
            ErrorKind.TIMEOUT, f"no answer within {timeout_s:g} s", (time.monotonic() - t) * 1000
        )
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a provider bug must not abort the run
        return provider_bug_completion(exc, endpoint, ws, (time.monotonic() - t) * 1000)


def error_completion(kind: str, message: str, latency_ms: float) -> Completion:
    """A failed call's Completion (`kind` is an error kind), for a call that raised."""
    from promptyard.models import Completion

    return Completion(
        text=None,
        finish_reason=None,
        prompt_tokens=None,
        completion_tokens=None,
        cost_usd=None,
        latency_ms=latency_ms,
        ttft_ms=None,
        error_kind=kind,
        error_message=message,
        raw=None,
    )


def provider_bug_completion(
    exc: Exception, endpoint: ModelEndpoint, ws: Workspace | None, latency_ms: float
) -> Completion:
    """The failed Completion of a provider that raised instead of returning one.

    The exception's text is scrubbed of the endpoint's key; if scrubbing itself fails, the
    text is left out rather than stored unscrubbed.
    """
    from promptyard.models import ErrorKind, api_key, scrub

    try:
        key = api_key(endpoint, ws)
        detail = scrub(str(exc), [key] if key else [])
    except Exception as scrub_exc:  # noqa: BLE001 - never let a key through
        log.warning("could not scrub a provider error; its text is dropped: %s", scrub_exc)
        detail = "(message withheld)"
    message = f"{type(exc).__name__}: {detail}"[:500]
    return error_completion(ErrorKind.INVALID_RESPONSE, message, latency_ms)
