"""The judge check: an LLM reads the answer against a rubric and says pass or fail.

The rubric prompt is a versioned `.prompty` in the workspace (`prompts/guardrail_judge`
ships with `promptyard init`; `prompt:` names another). It gets `rubric` (the check's,
else the prompt's default), `input` (what the user sent, masked) and `output` (the answer,
still masked), and answers JSON with `passed` (true/false) and `reason`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from promptyard.guardrails.policy import Check
from promptyard.workspace import Workspace

JUDGE_PROMPT = "guardrail_judge"
JUDGE_TOKENS = 200
_VERDICT = re.compile(r"\b(PASS|FAIL)\b", re.IGNORECASE)


def parse_verdict(text: str | None) -> tuple[bool | None, str]:
    """(passed, reason) from a judge's answer; passed None when it gave no verdict."""
    if not text:
        return None, "the judge gave no answer"
    try:
        data: Any = json.loads(text[text.index("{") : text.rindex("}") + 1])
    except ValueError:
        data = None
    if isinstance(data, dict):
        verdict = data.get("passed", data.get("pass"))
        reason = str(data.get("reason") or "")[:300]
        if isinstance(verdict, bool):
            return verdict, reason
    m = _VERDICT.search(text)
    if m:
        return m.group(1).upper() == "PASS", text[:300]
    return None, "the judge's answer has no verdict"


def make_judge(ws: Workspace) -> Any:
    """A judge function for `engine.check_output` that calls models in workspace `ws`."""

    async def judge(check: Check, output: str, input_text: str) -> tuple[bool, str, float | None]:
        from promptyard.models import ModelCall, complete, resolve_model
        from promptyard.prompts import get_prompt

        prompt = get_prompt(str(check.options.get("prompt") or JUDGE_PROMPT), workspace=ws)
        values = {"output": output, "input": input_text}
        if check.options.get("rubric"):
            values["rubric"] = str(check.options["rubric"])
        messages = prompt.render(values)
        model = str(check.options.get("model") or prompt.model or "sim-smart")
        parameters = {"temperature": 0, "max_tokens": JUDGE_TOKENS, **prompt.parameters}
        result = await complete(ModelCall(resolve_model(ws, model), messages, parameters))
        if not result.ok:
            return False, f"the judge call failed: {result.error_kind}", result.cost_usd
        passed, reason = parse_verdict(result.text)
        if passed is None:
            return False, reason, result.cost_usd
        return passed, reason or ("passed" if passed else "failed"), result.cost_usd

    return judge
