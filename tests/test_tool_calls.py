"""Tool calls end to end, over real HTTP to the simulator: a prompt's tools reach the
model, the engine records the calls in the cell, Compare and the trace show them, and the
tool evaluators grade them; also through the `openai` SDK stream and litellm."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from typing import Any

import jsonschema
import pytest
from sqlmodel import select

from promptyard import runs
from promptyard.evals.evaluators import Assertion, EvalContext, evaluate
from promptyard.evals.scoring import score_run
from promptyard.models import ModelCall, SimulatorHandle, complete, simulated_endpoint
from promptyard.prompts import parse_prompt
from promptyard.reading import cell_trace, grid_page, tool_call_lines
from promptyard.storage import db
from promptyard.storage.tables import Cell
from tests.cli import run_cli

LOOKUP = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Look up a customer's order by its number",
        "parameters": {
            "type": "object",
            "properties": {
                "order_number": {"type": "string"},
                "customer": {"type": "string"},
                "priority": {"type": "string", "enum": ["low", "normal", "urgent"]},
            },
            "required": ["order_number", "priority"],
            "additionalProperties": False,
        },
    },
}
REFUND = {
    "type": "function",
    "function": {
        "name": "issue_refund",
        "description": "Refund a duplicate charge",
        "parameters": {
            "type": "object",
            "properties": {"amount": {"type": "number", "minimum": 0}},
            "required": ["amount"],
        },
    },
}
PROMPT = """---
name: support_agent
model:
  name: sim-fast
  parameters:
    temperature: 0
---
system:
You are a support agent. Use the tools to look up the customer's order.

user:
{{ customer_name }} writes: {{ message }}
"""
ROWS = [
    {"id": "r1", "customer_name": "Dana", "message": "Where is my order #55102?"},
    {"id": "r2", "customer_name": "Priya", "message": "Please look up order #48213."},
]


def _template(tools: list[dict[str, Any]]) -> Any:
    template = parse_prompt(PROMPT, "support_agent")
    if not getattr(template, "tools", None):
        # `PromptTemplate.tools` comes from the Prompty work; set it the same way until then
        object.__setattr__(template, "tools", tools)
    return template


def _run_with_tools(ws: Any, tools: list[dict[str, Any]]) -> int:
    spec = runs.VariantSpec(
        template=_template(tools), endpoint=simulated_endpoint("sim-fast"), prompt_name="agent"
    )
    plan = runs.build_plan([spec], ROWS, dataset_name="orders")
    run_id = runs.create_run(ws, plan)
    runs.run_sync(ws, run_id)
    return run_id


def _cells(ws: Any, run_id: int) -> list[Cell]:
    with db.session(ws) as s:
        query = select(Cell).where(Cell.run_id == run_id).order_by(Cell.row_index)
        return list(s.execute(query).scalars())


def test_a_prompts_tools_reach_the_model_and_the_calls_land_in_the_cell(
    workspace: Any, sim: SimulatorHandle
) -> None:
    run_id = _run_with_tools(workspace, [LOOKUP, REFUND])
    sent = [r for r in sim.requests if r.get("model") == "sim-fast"]
    assert sent and all(
        [t["function"]["name"] for t in r["tools"]] == ["lookup_order", "issue_refund"]
        for r in sent
    )
    cells = _cells(workspace, run_id)
    assert [c.status for c in cells] == ["ok", "ok"]
    for cell in cells:
        assert cell.finish_reason == "tool_calls" and cell.output is None
        calls = json.loads(cell.tool_calls_json or "[]")
        assert [c["function"]["name"] for c in calls] == ["lookup_order"]
        jsonschema.validate(
            json.loads(calls[0]["function"]["arguments"]), LOOKUP["function"]["parameters"]
        )
        assert cell.completion_tokens and cell.completion_tokens > 0

    # Compare and the trace show them, as data the page draws as text
    page = grid_page(workspace, [run_id])
    shown = page.rows[0].cells[page.columns[0].variant_id]
    assert shown.tool_calls and shown.tool_calls[0]["function"]["name"] == "lookup_order"
    line = tool_call_lines(shown.tool_calls)[0]
    assert line.startswith("lookup_order({") and '"priority"' in line
    trace = cell_trace(workspace, int(cells[0].id or 0))
    assert trace.tool_calls == json.loads(cells[0].tool_calls_json or "")
    assert trace.parameters["tools"][0]["function"]["name"] == "lookup_order"

    # `promptyard results` carries them, as JSON lines and as a CSV column
    lines = [json.loads(x) for x in run_cli("results", str(run_id)).stdout.splitlines()]
    assert [r["tool_calls"][0]["function"]["name"] for r in lines] == ["lookup_order"] * 2
    table = list(
        csv.DictReader(io.StringIO(run_cli("results", str(run_id), "--format", "csv").stdout))
    )
    assert json.loads(table[0]["tool_calls"])[0]["function"]["name"] == "lookup_order"

    # the evaluators grade them against the tools the model was offered
    scores = score_run(
        workspace,
        run_id,
        [
            Assertion("is-valid-openai-tools-call", name="valid"),
            Assertion("tool-call", {"name": "lookup_order"}, name="looked_up"),
            Assertion("not-tool-call", "issue_refund", name="no_refund"),
            Assertion("contains", "lookup_order", name="promptfoo_text"),
        ],
    )
    for result in scores.cells:
        assert {n: g.passed for n, g in result.grades.items()} == {
            "valid": True,
            "looked_up": True,
            "no_refund": True,
            "promptfoo_text": True,
        }


def test_the_cache_keeps_tool_calls(workspace: Any, sim: SimulatorHandle) -> None:
    first = _run_with_tools(workspace, [LOOKUP])
    second = _run_with_tools(workspace, [LOOKUP])
    old, new = _cells(workspace, first), _cells(workspace, second)
    assert all(c.cached for c in new)
    assert [c.tool_calls_json for c in new] == [c.tool_calls_json for c in old]


def test_a_forced_tool_choice_and_a_streamed_call(sim: SimulatorHandle) -> None:
    endpoint = simulated_endpoint("sim-smart")
    messages = [{"role": "user", "content": "Dana was charged twice, 12.50 each."}]
    params = {"tool_choice": {"type": "function", "function": {"name": "issue_refund"}}}

    async def go() -> tuple[Any, Any]:
        plain = await complete(ModelCall(endpoint, messages, params, tools=[LOOKUP, REFUND]))
        streamed = await complete(
            ModelCall(endpoint, messages, params, tools=[LOOKUP, REFUND], stream=True)
        )
        return plain, streamed

    plain, streamed = asyncio.run(go())
    assert plain.ok and streamed.ok, (plain.error_message, streamed.error_message)
    assert plain.tool_calls and plain.tool_calls[0]["function"]["name"] == "issue_refund"
    assert streamed.tool_calls == plain.tool_calls
    assert streamed.text is None and streamed.finish_reason == "tool_calls"
    args = json.loads(plain.tool_calls[0]["function"]["arguments"])
    assert isinstance(args["amount"], int | float) and args["amount"] >= 0


def test_litellm_sends_tools_and_reads_the_calls(sim: SimulatorHandle) -> None:
    from dataclasses import replace

    endpoint = replace(simulated_endpoint("sim-fast"), provider_kind="litellm")
    call = ModelCall(endpoint, [{"role": "user", "content": "Look up order 55102"}], tools=[LOOKUP])
    result = asyncio.run(complete(call))
    assert result.ok, result.error_message
    assert result.tool_calls and result.tool_calls[0]["function"]["name"] == "lookup_order"


def test_tool_evaluators_read_promptfoo_shaped_output_and_explain_failures() -> None:
    calls = [{"type": "function", "function": {"name": "lookup_order", "arguments": '{"x": 1}'}}]
    ctx = EvalContext(tools=[LOOKUP], inputs={"n": "55102"})
    grade = evaluate(json.dumps(calls), ctx, Assertion("is-valid-openai-tools-call"))
    assert not grade.passed and "does not match schema" in grade.reason
    unknown = [{"type": "function", "function": {"name": "delete_all", "arguments": "{}"}}]
    grade = evaluate(
        json.dumps({"tool_calls": unknown}), ctx, Assertion("is-valid-openai-tools-call")
    )
    assert not grade.passed and "no function with that name" in grade.reason
    text = evaluate("I cannot help.", ctx, Assertion("is-valid-openai-tools-call"))
    assert not text.passed and "valid-looking" in text.reason
    good = [
        {
            "type": "function",
            "function": {
                "name": "lookup_order",
                "arguments": '{"order_number": "55102", "priority": "urgent"}',
            },
        }
    ]
    with_args = Assertion(
        "tool-call", {"name": "lookup_order", "arguments": {"order_number": "{{n}}"}}
    )
    assert evaluate("", EvalContext(tool_calls=good, inputs={"n": "55102"}), with_args).passed
    wrong = evaluate("", EvalContext(tool_calls=good, inputs={"n": "1"}), with_args)
    assert not wrong.passed and "not with" in wrong.reason


def test_a_tool_call_assertion_without_a_name_is_a_config_error() -> None:
    from promptyard.evals.evaluators import AssertionConfigError, check_assertion

    with pytest.raises(AssertionConfigError, match="evals/x.yaml line 3: tool-call needs"):
        check_assertion(Assertion("tool-call", {"arguments": {}}, where="evals/x.yaml line 3"))
    # promptfoo ignores a value that is not a list of tools; so does Promptyard
    check_assertion(Assertion("is-valid-openai-tools-call", "x", where="evals/x.yaml line 4"))


def test_compare_and_the_trace_show_the_calls_as_text(workspace: Any, sim: SimulatorHandle) -> None:
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    run_id = _run_with_tools(workspace, [LOOKUP])
    cell = _cells(workspace, run_id)[0]
    page = str(Path(__file__).resolve().parent.parent / "app" / "views" / "compare.py")
    at = AppTest.from_file(page, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = [c.value for c in at.code]
    assert any(v.startswith("lookup_order({") for v in shown), shown
    assert "1 tool call" in [c.value for c in at.caption]
    at.button(key=f"compare.trace_btn::{cell.id}").click().run()
    assert not at.exception
    traced = [
        json.loads(c.value) for c in at.code if c.language == "json" and '"function"' in c.value
    ]
    assert traced and traced[0] == json.loads(cell.tool_calls_json or "")


def test_a_suite_names_the_tool_assertions(workspace: Any) -> None:
    from promptyard.evals.suites import load_suite

    (workspace.root / "evals" / "agent.yaml").write_text(
        "prompts: [summarize]\n"
        "models: [sim-fast]\n"
        "dataset: summaries\n"
        "assert:\n"
        "  - type: is-valid-openai-tools-call\n"
        "  - type: tool-call\n"
        "    value: {name: lookup_order, arguments: {order_number: '{{id}}'}}\n"
        "  - type: not-tool-call\n"
        "    value: issue_refund\n",
        encoding="utf-8",
    )
    suite = load_suite(workspace, "agent", check_refs=False)
    kinds = [(a.type, a.value) for a in suite.assertions]
    assert kinds == [
        ("is-valid-openai-tools-call", None),
        ("tool-call", {"name": "lookup_order", "arguments": {"order_number": "{{id}}"}}),
        ("not-tool-call", "issue_refund"),
    ]
