"""A policy as an evaluator: what its checks find in a call already made (a trace, a cell).

For online evaluation: nothing is masked or retried after the fact, so anything a check
finds is a failure — personal data that reached the provider, an injection that got
through, an answer that is not JSON or uses a banned term. Judge checks are skipped here
(an `llm-rubric` assertion with the judge prompt grades that, under the judge budget).
"""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import replace
from typing import Any, TypeVar

from promptyard.guardrails.engine import check_output, guard_input
from promptyard.guardrails.policy import Action, CheckKind, Policy
from promptyard.guardrails.record import GuardRecord

T = TypeVar("T")


def run_now(coro: Coroutine[Any, Any, T]) -> T:
    """The value of a coroutine that never waits (output checks without a judge), computed
    in the caller's thread: usable inside a running event loop, unlike asyncio.run."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coro.close()
    raise RuntimeError("the checks waited on something: a judge check cannot run here")


def audit_call(policy: Policy, messages: list[dict[str, Any]], output: str | None) -> GuardRecord:
    """Run the policy's checks, judges aside, on a call already made; the record of what
    they found (masking and repairs count as findings: the call went out without them)."""
    plain = replace(
        policy,
        output=tuple(
            replace(c, action=Action.FLAG if c.action is not Action.MASK else c.action)
            for c in policy.output
            if c.kind != CheckKind.JUDGE
        ),
    )
    guarded = guard_input(plain, messages)
    record = guarded.record
    if record.blocked is None and output is not None:
        run_now(check_output(plain, output, record))
    return record


def audit_passed(record: GuardRecord) -> bool:
    """True when nothing was found: no personal data, flag, block or repair."""
    return record.passed and not record.masked and not record.output_masked
