"""A model call under a policy: mask, send, check the answer, repair or retry, restore.

`guarded_complete` is what runs, the Playground and `promptyard.guard` call instead of
`models.complete`. The provider receives only the masked messages; a retry sends them
again with the rejected answer and the reason. The returned `Completion` adds up tokens,
cost and latency over every call it made and carries the record in `.guardrail`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from promptyard.guardrails.engine import (
    JudgeFn,
    check_output,
    guard_input,
    input_text,
    restore_output,
)
from promptyard.guardrails.jsoncheck import retry_message
from promptyard.guardrails.policy import MAX_RETRIES, Policy

if TYPE_CHECKING:
    from promptyard.models import Completion, ModelCall

Send = Callable[["ModelCall"], Awaitable["Completion"]]


def _add(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


def _blocked(reason: str, latency_ms: float = 0.0) -> Completion:
    from promptyard.models import Completion, ErrorKind

    return Completion(
        text=None,
        finish_reason=None,
        prompt_tokens=0,
        completion_tokens=0,
        cost_usd=0.0,
        latency_ms=latency_ms,
        error_kind=ErrorKind.GUARDRAIL.value,
        error_message=reason,
    )


async def guarded_complete(
    policy: Policy,
    call: ModelCall,
    send: Send | None = None,
    *,
    schema: dict[str, Any] | None = None,
    judge: JudgeFn | None = None,
    warning: str | None = None,
) -> Completion:
    """Make `call` under `policy`; the completion's `.guardrail` says what the policy did.

    `send` makes one call (default: `models.complete`). An input check that blocks means
    no call at all: the completion is a `guardrail` error. `schema` is the prompt's output
    schema, for a json check with `schema: prompt`.
    """
    if send is None:
        from promptyard.models import complete as send_default

        send = send_default
    guarded = guard_input(policy, list(call.messages))
    record = guarded.record
    record.warning = warning
    if guarded.blocked:
        assert record.blocked is not None
        result = _blocked(f"blocked by guardrail {policy.name}: {record.blocked['reason']}")
        result.guardrail = record.to_dict()
        return result
    messages = guarded.messages
    asked = input_text(messages)
    left: dict[int, int] = {}
    total: Completion | None = None
    while True:
        result = await send(replace(call, messages=messages))
        if total is not None:
            result.prompt_tokens = _sum_int(total.prompt_tokens, result.prompt_tokens)
            result.completion_tokens = _sum_int(total.completion_tokens, result.completion_tokens)
            result.cost_usd = _add(total.cost_usd, result.cost_usd)
            result.latency_ms += total.latency_ms
        total = result
        if not result.ok:
            break  # a provider failure is the runner's to retry, not the policy's
        verdict = await check_output(
            policy, result.text, record, schema=schema, input_text=asked, judge=judge,
            retries_left=left,
        )  # fmt: skip
        if verdict.retry_reason is not None and record.retries < MAX_RETRIES:
            record.retries += 1
            messages = [
                *messages,
                {"role": "assistant", "content": result.text or ""},
                {"role": "user", "content": retry_message(verdict.retry_reason)},
            ]
            continue
        if verdict.retry_reason is not None:  # out of retries: the answer stays rejected
            assert verdict.retry_check is not None
            record.block(verdict.retry_check.kind, "output", verdict.retry_reason)
        result.text = restore_output(policy, verdict.text, guarded)
        if record.blocked is not None:
            result.error_kind = _guardrail_kind()
            result.error_message = (
                f"blocked by guardrail {policy.name}: {record.blocked['check']}: "
                f"{record.blocked['reason']}"
                + (f" (after {record.retries} retries)" if record.retries else "")
            )
        break
    if record.judge_cost_usd is not None:
        total.cost_usd = _add(total.cost_usd, record.judge_cost_usd)
    total.guardrail = record.to_dict()
    return total


def _sum_int(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a + b


def _guardrail_kind() -> str:
    from promptyard.models import ErrorKind

    return ErrorKind.GUARDRAIL.value
