"""Guardrails: policies in `guardrails.yaml` that check a call's input and its answer.

Input checks mask personal data before the model sees it (and can put it back in the
answer), flag or block prompt injections and overlong inputs; output checks want valid
JSON (repaired with json-repair, else retried with the error fed back), no personal data,
no banned terms, and an LLM judge's pass. Plugins add detectors through the
`promptyard.guardrails` entry-point group. Runs (`RunPlan.guardrails`), the Playground,
online evaluation and applications (`promptyard.guard`) apply the same policies; every
action is recorded, in kinds and counts, never values.
"""

import hashlib

from promptyard.guardrails.app_guard import Guard, GuardResult, guard
from promptyard.guardrails.call import guarded_complete
from promptyard.guardrails.config import load_policies, load_policy, parse_guardrails
from promptyard.guardrails.content import INJECTION_PATTERNS, find_banned, find_injection
from promptyard.guardrails.engine import GuardedInput, check_output, guard_input, restore_output
from promptyard.guardrails.jsoncheck import JsonVerdict, check_json, repair_json
from promptyard.guardrails.judge import JUDGE_PROMPT, parse_verdict
from promptyard.guardrails.offline import audit_call, audit_passed, run_now
from promptyard.guardrails.pii import Masker, find_pii
from promptyard.guardrails.plugins import (
    ENTRY_POINT_GROUP,
    Finding,
    GuardrailPluginError,
    plugin_names,
    reset_plugins,
)
from promptyard.guardrails.policy import (
    GUARDRAILS_FILE,
    Action,
    Check,
    CheckKind,
    GuardrailsError,
    PiiKind,
    Policies,
    Policy,
    Stage,
)
from promptyard.guardrails.rates import GuardrailRates, guardrail_rates
from promptyard.guardrails.record import GuardRecord, guardrail_line
from promptyard.guardrails.run_guard import RunGuard, load_run_guard
from promptyard.workspace import Workspace


def policy_tag(ws: Workspace, name: str | None) -> str | None:
    """The policy `name` as it is now, as a short tag for cache keys (its name and a digest
    of its checks); None for no policy. Raises GuardrailsError for an unknown policy."""
    if not name:
        return None
    policy = load_policy(ws, name)
    checks = repr((policy.input, policy.output, policy.restore))
    return f"{name}:{hashlib.sha256(checks.encode()).hexdigest()[:16]}"


def guarded_key(cache_key: str, tag: str | None) -> str:
    """A cell's cache key under a policy (`policy_tag`): a guarded call is never served an
    unguarded answer, nor one guarded by an older version of the policy."""
    if not tag:
        return cache_key
    return hashlib.sha256(f"{cache_key}\x00guardrails\x00{tag}".encode()).hexdigest()


__all__ = [
    "ENTRY_POINT_GROUP",
    "GUARDRAILS_FILE",
    "INJECTION_PATTERNS",
    "JUDGE_PROMPT",
    "Action",
    "Check",
    "CheckKind",
    "Finding",
    "Guard",
    "GuardRecord",
    "GuardResult",
    "GuardedInput",
    "GuardrailPluginError",
    "GuardrailRates",
    "GuardrailsError",
    "JsonVerdict",
    "Masker",
    "PiiKind",
    "Policies",
    "Policy",
    "RunGuard",
    "Stage",
    "audit_call",
    "audit_passed",
    "check_json",
    "check_output",
    "find_banned",
    "find_injection",
    "find_pii",
    "guard",
    "guard_input",
    "guarded_complete",
    "guarded_key",
    "guardrail_line",
    "guardrail_rates",
    "load_policies",
    "load_policy",
    "load_run_guard",
    "parse_guardrails",
    "parse_verdict",
    "plugin_names",
    "policy_tag",
    "repair_json",
    "reset_plugins",
    "restore_output",
    "run_now",
]
