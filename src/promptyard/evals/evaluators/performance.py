"""Checks on the call rather than the text: `latency` and `cost` under a ceiling."""

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
    negatable=False,
    needs_value=False,
    check=_check_ceiling,
)
def latency(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when the call took at most `threshold` ms; undecided when latency is unknown."""
    if ctx.latency_ms is None:
        return Grade(None, False, "latency unknown")
    passed = ctx.latency_ms <= float(a.threshold or 0)
    return verdict(passed, f"{ctx.latency_ms:.0f} ms (ceiling {a.threshold:g} ms)")


@register(
    "cost",
    "the call cost at most `threshold:` USD",
    negatable=False,
    needs_value=False,
    check=_check_ceiling,
)
def cost(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when the call cost at most `threshold` USD; undecided without a price."""
    if ctx.cost_usd is None:
        return Grade(None, False, "cost unknown (no price for this model)")
    passed = ctx.cost_usd <= float(a.threshold or 0)
    return verdict(passed, f"${ctx.cost_usd:.6f} (ceiling ${a.threshold:g})")
