"""The CI gate: run a suite on the prompts as they are now and on a baseline, and compare.

`run_gate(ws, "support_reply")` plans one run with, for every prompt of the suite and
every model, the working-tree text (uncommitted edits included) and the baseline version
(`--baseline` ref or label; else the `production` label; else the last commit), sends
it through the engine, scores it with the suite, and decides:

- exit 0: every current variant reaches the suite's pass threshold and none drops more
  than `tolerance` below its baseline;
- exit 1: the suite fails or regresses;
- exit 2: a usage or configuration error (unknown suite, bad assertion, unknown ref...),
  raised as `GateConfigError` before anything is sent.

`trust` takes models, custom evaluators, judge prompts and gate.yaml (`settings`) from the
baseline revision and refuses a working tree that changes them; `sides` picks the two
versions, `runner` plans and runs the gate, `result` holds the verdict (`cells`: what each
cell did at the provider), and the reporters render it: `table` and `markdown`
(`reporters`), `junit_xml` (`junit`) and `json_report` (`contract`, the stable JSON of
`promptyard eval --json`) for a terminal, a pull-request comment, a CI test report and
machines.
"""

from promptyard.evals.gate.contract import JSON_SCHEMA_VERSION, json_report
from promptyard.evals.gate.junit import junit_xml
from promptyard.evals.gate.reporters import markdown, md_escape, table
from promptyard.evals.gate.result import (
    EXIT_CONFIG,
    EXIT_FAIL,
    EXIT_PASS,
    Comparison,
    GateConfigError,
    GateResult,
)
from promptyard.evals.gate.runner import plan_gate, run_gate, run_gate_async
from promptyard.evals.gate.sides import PromptSide, baseline_side, current_side
from promptyard.evals.gate.trust import (
    GateTrustError,
    TrustedInputs,
    trusted_commit,
    trusted_inputs,
)

__all__ = [
    "EXIT_CONFIG",
    "JSON_SCHEMA_VERSION",
    "EXIT_FAIL",
    "EXIT_PASS",
    "Comparison",
    "GateConfigError",
    "GateResult",
    "GateTrustError",
    "PromptSide",
    "baseline_side",
    "TrustedInputs",
    "current_side",
    "json_report",
    "junit_xml",
    "markdown",
    "md_escape",
    "plan_gate",
    "run_gate",
    "run_gate_async",
    "table",
    "trusted_commit",
    "trusted_inputs",
]
