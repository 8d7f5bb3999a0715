"""Guardrails: policies in `guardrails.yaml` that check a call's input and its answer.

Input checks mask personal data before the model sees it (and can put it back in the
answer), flag or block prompt injections and overlong inputs; output checks want valid
JSON (repaired with json-repair, else retried with the error fed back), no personal data,
no banned terms, and an LLM judge's pass. Plugins add detectors through the
`promptyard.guardrails` entry-point group. Runs (`RunPlan.guardrails`), the Playground,
online evaluation and applications (`promptyard.guard`) apply the same policies; every
action is recorded, in kinds and counts, never values.

The names are imported from their modules on first use (PEP 562): storing a run's cells
needs `policy_tag` and `guarded_key`, not the checks, jsonschema or the PII detectors.
"""

from typing import TYPE_CHECKING

from promptyard.lazy_names import lazy_face

_HOMES = {
    **dict.fromkeys(["Guard", "GuardResult", "guard"], "app_guard"),
    **dict.fromkeys(["guarded_complete"], "call"),
    **dict.fromkeys(["load_policies", "load_policy", "parse_guardrails"], "config"),
    **dict.fromkeys(["INJECTION_PATTERNS", "find_banned", "find_injection"], "content"),
    **dict.fromkeys(["GuardedInput", "check_output", "guard_input", "restore_output"], "engine"),
    **dict.fromkeys(["JsonVerdict", "check_json", "repair_json"], "jsoncheck"),
    **dict.fromkeys(["JUDGE_PROMPT", "parse_verdict"], "judge"),
    **dict.fromkeys(["audit_call", "audit_passed", "run_now"], "offline"),
    **dict.fromkeys(["Masker", "find_pii"], "pii"),
    **dict.fromkeys(
        ["ENTRY_POINT_GROUP", "Finding", "GuardrailPluginError", "plugin_names", "reset_plugins"],
        "plugins",
    ),
    **dict.fromkeys(
        [
            "Action",
            "Check",
            "CheckKind",
            "GUARDRAILS_FILE",
            "GuardrailsError",
            "PiiKind",
            "Policies",
            "Policy",
            "Stage",
        ],
        "policy",
    ),
    **dict.fromkeys(["GuardrailRates", "guardrail_rates"], "rates"),
    **dict.fromkeys(["GuardRecord", "guardrail_line"], "record"),
    **dict.fromkeys(["RunGuard", "load_run_guard"], "run_guard"),
    **dict.fromkeys(["guarded_key", "policy_tag"], "tags"),
}


if TYPE_CHECKING:  # what type checkers and editors see: the same names as _HOMES
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
    from promptyard.guardrails.tags import guarded_key, policy_tag

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

__getattr__, __dir__ = lazy_face(
    __name__, {name: f"{__name__}.{home}" for name, home in _HOMES.items()}, __all__
)
