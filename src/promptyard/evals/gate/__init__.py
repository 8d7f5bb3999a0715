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

`sides` picks the two versions, `runner` plans and runs the gate, `result` holds the
verdict, and `reporters` render it: `table`, `markdown` and `junit_xml` for a terminal, a
pull-request comment and a CI test report.
"""

from promptyard.evals.gate.reporters import junit_xml, markdown, md_escape, table
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

__all__ = [
    "EXIT_CONFIG",
    "EXIT_FAIL",
    "EXIT_PASS",
    "Comparison",
    "GateConfigError",
    "GateResult",
    "PromptSide",
    "baseline_side",
    "current_side",
    "junit_xml",
    "markdown",
    "md_escape",
    "plan_gate",
    "run_gate",
    "run_gate_async",
    "table",
]
