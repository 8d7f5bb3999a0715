"""A custom Promptyard evaluator: every number in the input text appears in the output.

Custom evaluators are plain Python files in the workspace's evaluators/ folder. A suite
names one with `type: python` and `value: keeps_numbers.py`; Promptyard imports the file
only then, and that RUNS ITS CODE on the machine that scores (your laptop, CI). Review
them like any other code in the repository.

Define `get_assert(output, context)` (promptfoo's name) or `evaluate(output, context)`.
`context` has "vars" (the row's columns), "reference", "model", "prompt",
"latency_ms", "cost_usd" and "config" (extra keys of the assertion). Return a bool, a
score from 0 to 1, or a dict {"pass": bool, "score": float, "reason": str}.
"""

import re

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def get_assert(output, context):
    source = str(context["vars"].get("text", ""))
    wanted = sorted(set(NUMBER.findall(source)))
    if not wanted:
        return {"pass": True, "score": 1.0, "reason": "the input has no numbers"}
    kept = [n for n in wanted if n in output]
    missing = [n for n in wanted if n not in kept]
    score = len(kept) / len(wanted)
    reason = "kept every number" if not missing else f"dropped {', '.join(missing[:5])}"
    return {"pass": not missing, "score": score, "reason": reason}
