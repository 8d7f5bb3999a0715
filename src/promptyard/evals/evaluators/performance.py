"""Checks on the call rather than the text: `latency` and `cost` under a ceiling.

As promptfoo's: `latency` passes at or under `threshold` ms, `cost` at or under
`threshold` USD; `not-latency` / `not-cost` pass above it. A call whose latency or cost is
unknown (a cached answer, a model with no price) is an error, not a failure.
"""

from __future__ import annotations

from promptyard.evals.evaluators.base import (
    Assertion,
    AssertionConfigError,
    EvalContext,
    Grade,
    register,
    verdict,
)


def _check_ceiling(a: Assertion) -> None:
    if a.threshold is None or a.threshold < 0:
        raise AssertionConfigError(
            f"{a.where}: {a.base_type} needs a `threshold:` (the ceiling) >= 0"
        )


@register(
    "latency",
    "the call took at most `threshold:` milliseconds",
    needs_value=False,
    check=_check_ceiling,
)
def latency(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when the call took at most `threshold` ms; an error when latency is unknown."""
    if ctx.latency_ms is None:
        return Grade(
            None,
            False,
            "latency unknown (a cached answer has none; run again without the cache)",
            error=True,
        )
    passed = ctx.latency_ms <= float(a.threshold or 0)
    return verdict(passed, f"{ctx.latency_ms:.0f} ms (ceiling {a.threshold:g} ms)")


@register(
    "cost",
    "the call cost at most `threshold:` USD",
    needs_value=False,
    check=_check_ceiling,
)
def cost(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when the call cost at most `threshold` USD; an error without a price."""
    if ctx.cost_usd is None:
        return Grade(None, False, "cost unknown (the model reports no price)", error=True)
    passed = ctx.cost_usd <= float(a.threshold or 0)
    return verdict(passed, f"${ctx.cost_usd:.6f} (ceiling ${a.threshold:g})")
