"""Tool-call checks: promptfoo's `is-valid-openai-tools-call`, and `tool-call` (the model
called a named tool, with these arguments).

Both read the cell's tool calls (`ctx.tool_calls`); when there are none they read the
output as promptfoo does: a JSON list of tool calls, or an object with `tool_calls`.
"""

from __future__ import annotations

import json
from typing import Any

from promptyard.evals.evaluators.base import (
    Assertion,
    AssertionConfigError,
    EvalContext,
    Grade,
    register,
    shorten,
    verdict,
)
from promptyard.evals.evaluators.placeholders import fill_value


def _calls(output: str, ctx: EvalContext) -> Any:
    """The tool calls to grade: the recorded ones, else the output read as JSON."""
    if ctx.tool_calls:
        return ctx.tool_calls
    try:
        value = json.loads(output)
    except ValueError:
        return output
    if isinstance(value, dict) and "tool_calls" in value:
        return value["tool_calls"]
    return value


def _looks_valid(calls: Any) -> bool:
    if not isinstance(calls, list) or not calls:
        return False
    for call in calls:
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict):
            return False
        if not isinstance(fn.get("name"), str) or not isinstance(fn.get("arguments"), str):
            return False
    return True


def _functions(value: Any, ctx: EvalContext) -> list[dict[str, Any]]:
    """The function definitions calls are checked against: the assertion's value (a list
    of tools), else the tools the model was offered."""
    tools = value if isinstance(value, list) else ctx.tools
    out = []
    for tool in tools or []:
        if isinstance(tool, dict) and tool.get("type", "function") == "function":
            fn = tool.get("function", tool)
            if isinstance(fn, dict):
                out.append(fn)
    return out


def _validate(call: dict[str, Any], functions: list[dict[str, Any]]) -> str | None:
    """Why the call does not fit its function's schema (promptfoo's wording), else None."""
    from jsonschema import Draft202012Validator, FormatChecker

    fn = call["function"]
    name = fn["name"]
    try:
        args = json.loads(fn["arguments"])
    except ValueError as exc:
        return f'Call to "{name}" has arguments that are not JSON: {exc}'
    schema = next((f.get("parameters") for f in functions if f.get("name") == name), None)
    if schema is None:
        return f'Called "{name}", but there is no function with that name'
    errors = sorted(
        Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(args),
        key=lambda e: list(e.path),
    )
    if errors:
        problems = "; ".join(
            f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors[:3]
        )
        return f'Call to "{name}" does not match schema: {problems}'
    return None


@register(
    "is-valid-openai-tools-call",
    "the output is OpenAI tool calls whose arguments fit the offered tools' schemas",
    needs_value=False,
)
def is_valid_openai_tools_call(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    calls = _calls(output, ctx)
    if not _looks_valid(calls):
        return verdict(
            False,
            "OpenAI did not return a valid-looking tools response: "
            + shorten(json.dumps(calls, default=str), 200),
        )
    functions = _functions(a.value, ctx)
    if not functions:
        # promptfoo fails this either way (its `not-` form too): a setup problem, not a verdict
        return Grade(
            0.0,
            False,
            "No tools configured for the model, but output contains tool calls",
            error=True,
        )
    for call in calls:
        problem = _validate(call, functions)
        if problem:
            return verdict(False, shorten(problem, 300))
    return verdict(True, "Assertion passed")


def _check_tool_call(a: Assertion) -> None:
    value = a.value
    if isinstance(value, str) and value.strip():
        return
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise AssertionConfigError(
            f"{a.where}: tool-call needs a tool name, or a mapping {{name, arguments}}"
        )
    if "arguments" in value and not isinstance(value["arguments"], dict):
        raise AssertionConfigError(f"{a.where}: tool-call `arguments` must be a mapping")


def _filled(value: Any, ctx: EvalContext) -> Any:
    """`{{column}}` placeholders filled inside mappings too (`arguments: {city: "{{city}}"}`)."""
    if isinstance(value, dict):
        return {k: _filled(v, ctx) for k, v in value.items()}
    return fill_value(value, ctx)


def _matches(expected: Any, actual: Any) -> bool:
    """Every expected key is in `actual` with an equal value (nested mappings likewise)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and _matches(v, actual[k]) for k, v in expected.items()
        )
    return bool(expected == actual)


@register(
    "tool-call",
    "the model called the named tool (and with these arguments, when given)",
    check=_check_tool_call,
)
def tool_call(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    value = _filled(a.value, ctx)
    name = value if isinstance(value, str) else value["name"]
    wanted = {} if isinstance(value, str) else value.get("arguments") or {}
    calls = _calls(output, ctx)
    if not _looks_valid(calls):
        return verdict(False, f"no tool calls (expected a call to {name!r})")
    named = [c for c in calls if c["function"]["name"] == name]
    if not named:
        called = ", ".join(sorted({c["function"]["name"] for c in calls}))
        return verdict(False, f"{name!r} was not called (called: {called})")
    for call in named:
        try:
            args = json.loads(call["function"]["arguments"])
        except ValueError:
            continue
        if _matches(wanted, args):
            shown = shorten(call["function"]["arguments"], 120)
            return verdict(True, f"called {name!r} with {shown}")
    shown = shorten(named[0]["function"]["arguments"], 120)
    return verdict(False, f"{name!r} was called with {shown}, not with {json.dumps(wanted)}")
