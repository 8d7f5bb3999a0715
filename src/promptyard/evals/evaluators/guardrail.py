"""`guardrail`: a guardrails.yaml policy as an evaluator (value: the policy's name).

It passes when the policy's checks find nothing in the call: no personal data in what was
sent or answered, no injection, valid JSON, no banned term (`guardrails.audit_call`).
Online evaluation uses it on traces; an offline suite may too.
"""

from __future__ import annotations

from pathlib import Path

from promptyard.evals.evaluators.base import Assertion, EvalContext, Grade, register, verdict
from promptyard.workspace import Workspace


@register("guardrail", "a guardrails.yaml policy's checks find nothing (value: the policy)")
def guardrail(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    # Imported here: the guardrails engine (jsonschema, the PII detectors) is loaded only
    # when a suite uses this check, not whenever the registry is.
    from promptyard.guardrails import audit_call, audit_passed, load_policy

    root = a.options.get("_root")
    if not root:
        return Grade(
            None, False, "guardrail: no workspace to read guardrails.yaml from", error=True
        )
    policy = load_policy(Workspace(Path(root)), str(a.value))
    record = audit_call(policy, list(ctx.messages), output)
    return verdict(audit_passed(record), record.summary())
