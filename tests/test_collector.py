"""`promptyard collect`: OTLP/HTTP traces in (the official SDK and exporter, OTLP JSON),
GenAI and OpenInference attributes to columns, secrets scrubbed, bad bodies refused whole."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from promptyard.storage import db
from promptyard.traces import CollectorHandle, start_collector
from promptyard.workspace import Workspace

TRACE = "5b8efff798038103d269b633813fc60c"
SPAN = "eee19b7ec3c1b174"


@pytest.fixture
def collector(workspace: Workspace) -> Iterator[CollectorHandle]:
    handle = start_collector(workspace, max_body_bytes=2 * 1024**2)
    yield handle
    handle.stop()


def spans(ws: Workspace, where: str = "1=1") -> list[dict[str, Any]]:
    with db.get_engine(ws).connect() as conn:
        rows = conn.execute(text(f"SELECT * FROM span WHERE {where} ORDER BY start_ns, id"))
        return [dict(r._mapping) for r in rows]


def post(url: str, body: bytes, content_type: str, **headers: str) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": content_type, **headers}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def sdk_provider(url: str) -> Any:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "shop-bot"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{url}/v1/traces")))
    return provider


def test_sdk_spans_arrive_with_their_tree_models_tokens_cost_and_prompt_link(
    workspace: Workspace, collector: CollectorHandle
) -> None:
    provider = sdk_provider(collector.url)
    tracer = provider.get_tracer("app")
    from opentelemetry.trace import SpanKind

    with tracer.start_as_current_span("answer") as root:
        root.set_attributes(
            {
                "promptyard.prompt.name": "summarize",
                "promptyard.prompt.version": 1,
                "promptyard.prompt.label": "production",
                "promptyard.prompt.variables": json.dumps({"text": "a long text"}),
                "user.id": "u-42",
                "session.id": "s-7",
            }
        )
        with tracer.start_as_current_span("chat sim-fast", kind=SpanKind.CLIENT) as llm:
            llm.set_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "sim-fast",
                    "gen_ai.response.model": "sim-fast",
                    "gen_ai.request.temperature": 0.2,
                    "gen_ai.request.max_tokens": 64,
                    "gen_ai.usage.input_tokens": 1000,
                    "gen_ai.usage.output_tokens": 200,
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.input.messages": json.dumps(
                        [{"role": "user", "parts": [{"type": "text", "content": "Summarize it"}]}]
                    ),
                    "gen_ai.output.messages": json.dumps(
                        [
                            {
                                "role": "assistant",
                                "parts": [{"type": "text", "content": "A summary."}],
                                "finish_reason": "stop",
                            }
                        ]
                    ),
                    "app.region": "eu-west",
                }
            )
        with tracer.start_as_current_span("unknown model") as other:
            other.set_attributes(
                {"gen_ai.request.model": "no-such-model-xyz", "gen_ai.usage.input_tokens": 5}
            )
    provider.force_flush()
    provider.shutdown()

    rows = {r["name"]: r for r in spans(workspace)}
    root_row, llm_row = rows["answer"], rows["chat sim-fast"]
    assert llm_row["trace_id"] == root_row["trace_id"] and len(llm_row["trace_id"]) == 32
    assert llm_row["parent_span_id"] == root_row["span_id"]
    assert root_row["is_llm"] == 0 and llm_row["is_llm"] == 1
    assert llm_row["kind"] == "client" and llm_row["service_name"] == "shop-bot"
    assert (llm_row["system"], llm_row["operation"]) == ("openai", "chat")
    assert (llm_row["request_model"], llm_row["response_model"]) == ("sim-fast", "sim-fast")
    assert (llm_row["input_tokens"], llm_row["output_tokens"]) == (1000, 200)
    assert llm_row["duration_ms"] > 0
    assert json.loads(llm_row["input_messages_json"]) == [
        {"role": "user", "content": "Summarize it"}
    ]
    assert llm_row["output_text"] == "A summary."
    assert json.loads(llm_row["parameters_json"]) == {"temperature": 0.2, "max_tokens": 64}
    assert json.loads(llm_row["finish_reasons_json"]) == ["stop"]
    from promptyard.models import SIMULATED_MODELS

    spec = SIMULATED_MODELS["sim-fast"]
    expected = 1000 * spec.input_cost_per_token + 200 * spec.output_cost_per_token
    assert llm_row["cost_usd"] == pytest.approx(expected)
    assert rows["unknown model"]["cost_usd"] is None  # an unknown price stays unknown
    # The prompt, user and session set on the parent reach the LLM span under it.
    for row in (root_row, llm_row):
        assert (row["prompt_name"], row["prompt_version"]) == ("summarize", 1)
        assert row["prompt_label"] == "production" and row["prompt_link"] == "linked"
        assert (row["user_id"], row["session_id"]) == ("u-42", "s-7")
    assert json.loads(llm_row["prompt_variables_json"]) == {"text": "a long text"}
    # Unknown attributes are kept; mapped ones are not repeated there.
    attributes = json.loads(llm_row["attributes_json"])
    assert attributes["app.region"] == "eu-west"
    assert "gen_ai.request.model" not in attributes


def otlp_json(spans_json: list[dict[str, Any]], resource: dict[str, Any] | None = None) -> bytes:
    body = {
        "resourceSpans": [
            {
                "resource": resource or {"attributes": []},
                "scopeSpans": [{"scope": {"name": "hand"}, "spans": spans_json}],
            }
        ]
    }
    return json.dumps(body).encode()


def attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}  # int64 as a string, per spec
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": value}}


def json_span(span_id: str = SPAN, **attributes: Any) -> dict[str, Any]:
    return {
        "traceId": TRACE,
        "spanId": span_id,
        "name": "llm",
        "kind": 3,
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000000250000000",
        "status": {"code": 2, "message": "rate limited"},
        "attributes": [attr(k.replace("__", "."), v) for k, v in attributes.items()],
    }


def test_otlp_json_with_openinference_attributes_gzip_and_a_json_answer(
    workspace: Workspace, collector: CollectorHandle
) -> None:
    span = json_span(
        **{
            "openinference.span.kind": "LLM",
            "llm.model_name": "sim-smart",
            "llm.provider": "openai",
            "llm.token_count.prompt": 12,
            "llm.token_count.completion": 3,
            "llm.input_messages.0.message.role": "system",
            "llm.input_messages.0.message.content": "Be terse.",
            "llm.input_messages.1.message.role": "user",
            "llm.input_messages.1.message.content": "Weather?",
            "llm.output_messages.0.message.role": "assistant",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "weather",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": '{"c": 1}',
            "llm.invocation_parameters": json.dumps({"temperature": 0.5}),
            "promptyard.prompt.name": "summarize",
            "promptyard.prompt.version": 99,
            "error.type": "RateLimitError",
        }
    )
    body = gzip.compress(otlp_json([span]))
    status, answer = post(
        f"{collector.url}/v1/traces", body, "application/json", **{"Content-Encoding": "gzip"}
    )
    assert (status, json.loads(answer)) == (200, {})
    [row] = spans(workspace)
    assert row["is_llm"] == 1 and row["system"] == "openai" and row["operation"] == "llm"
    assert row["request_model"] == row["response_model"] == "sim-smart"
    assert (row["input_tokens"], row["output_tokens"]) == (12, 3)
    assert row["duration_ms"] == pytest.approx(250.0)
    assert (row["status"], row["status_message"]) == ("error", "rate limited")
    assert [m["role"] for m in json.loads(row["input_messages_json"])] == ["system", "user"]
    [out] = json.loads(row["output_messages_json"])
    assert out["tool_calls"][0]["function"] == {"name": "weather", "arguments": '{"c": 1}'}
    assert json.loads(row["parameters_json"]) == {"temperature": 0.5}
    # A version the workspace does not have: the span is kept, its link marked unknown.
    assert (row["prompt_version"], row["prompt_link"]) == (99, "unknown")
    assert json.loads(row["attributes_json"])["error.type"] == "RateLimitError"
    from sqlmodel import select

    from promptyard.storage import Span

    with db.session(workspace) as s:  # the rows read back through the table model
        stored = s.exec(select(Span)).one()
    assert stored.received_at.year >= 2026 and stored.prompt_link == "unknown"


def test_the_older_genai_events_and_a_resent_span(
    workspace: Workspace, collector: CollectorHandle
) -> None:
    span = json_span(**{"gen_ai.system": "openai", "gen_ai.request.model": "sim-fast"})
    span["events"] = [
        {"name": "gen_ai.system.message", "attributes": [attr("content", "Be kind.")]},
        {"name": "gen_ai.user.message", "attributes": [attr("content", "Hi")]},
        {
            "name": "gen_ai.choice",
            "attributes": [
                attr("finish_reason", "length"),
                {
                    "key": "message",
                    "value": {
                        "kvlistValue": {
                            "values": [attr("role", "assistant"), attr("content", "Hello")]
                        }
                    },
                },
            ],
        },
        {"name": "retry", "timeUnixNano": "1700000000100000000", "attributes": []},
    ]
    for _ in range(2):  # an exporter's retry sends the same span again
        assert post(f"{collector.url}/v1/traces", otlp_json([span]), "application/json")[0] == 200
    [row] = spans(workspace)
    assert json.loads(row["input_messages_json"]) == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "Hi"},
    ]
    assert row["output_text"] == "Hello"
    assert json.loads(row["finish_reasons_json"]) == ["length"]
    assert [e["name"] for e in json.loads(row["events_json"])] == ["retry"]


def test_keys_and_authorization_headers_are_scrubbed_before_storage(
    workspace: Workspace, collector: CollectorHandle
) -> None:
    secret = "sk-proj-" + "A1b2C3d4" * 4
    span = json_span(
        **{
            "gen_ai.request.model": "sim-fast",
            "http.request.header.authorization": "Bearer abcdefgh12345678",
            "llm.openai.api_key": "plain-key-value-123",
            "app.note": f"called with {secret} today",
            "gen_ai.input.messages": json.dumps([{"role": "user", "content": f"my key {secret}"}]),
        }
    )
    assert post(f"{collector.url}/v1/traces", otlp_json([span]), "application/json")[0] == 200
    with db.get_engine(workspace).connect() as conn:
        dump = json.dumps([list(r) for r in conn.execute(text("SELECT * FROM span"))], default=str)
    for leaked in (secret, "abcdefgh12345678", "plain-key-value-123"):
        assert leaked not in dump
    [row] = spans(workspace)
    attributes = json.loads(row["attributes_json"])
    assert attributes["http.request.header.authorization"] == "***"
    assert attributes["app.note"] == "called with *** today"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "reason"),
    [
        (b"\x0a\xff\xff\xff\xff\x0f garbage", "application/x-protobuf", 400, "protobuf"),
        (b'{"resourceSpans": [', "application/json", 400, "not valid JSON"),
        (otlp_json([json_span(span_id="xyz")]), "application/json", 400, "spanId"),
        (otlp_json([{**json_span(), "traceId": "0" * 32}]), "application/json", 400, "traceId"),
        (b"hello", "text/plain", 415, "text/plain"),
    ],
)
def test_a_bad_body_gets_the_reason_and_stores_nothing(
    workspace: Workspace,
    collector: CollectorHandle,
    body: bytes,
    content_type: str,
    status: int,
    reason: str,
) -> None:
    code, answer = post(f"{collector.url}/v1/traces", body, content_type)
    assert code == status
    assert reason in answer.decode("utf-8", "replace")
    assert spans(workspace) == []


def test_one_bad_span_refuses_the_whole_request(
    workspace: Workspace, collector: CollectorHandle
) -> None:
    good, bad = json_span(), json_span(span_id="b7ad6b7169203331")
    bad["attributes"] = [{"value": {"stringValue": "no key"}}]
    code, answer = post(f"{collector.url}/v1/traces", otlp_json([good, bad]), "application/json")
    assert code == 400 and b"spans[1].attributes[0]" in answer
    assert spans(workspace) == []


def test_a_protobuf_error_is_a_google_rpc_status(collector: CollectorHandle) -> None:
    code, answer = post(f"{collector.url}/v1/traces", b"\xff\xff", "application/x-protobuf")
    assert code == 400
    # google.rpc.Status: field 1 code (3 = INVALID_ARGUMENT), field 2 the message
    assert answer[:2] == b"\x08\x03" and b"ExportTraceServiceRequest" in answer


def test_a_huge_body_gets_413_and_a_gzip_bomb_too(
    workspace: Workspace, collector: CollectorHandle
) -> None:
    huge = b"{" + b" " * (3 * 1024**2) + b"}"
    assert post(f"{collector.url}/v1/traces", huge, "application/json")[0] == 413
    bomb = gzip.compress(huge)  # small on the wire, over the limit unpacked
    code, answer = post(
        f"{collector.url}/v1/traces", bomb, "application/json", **{"Content-Encoding": "gzip"}
    )
    assert code == 413 and b"limit" in answer
    assert spans(workspace) == []


def test_promptyard_collect_serves_and_stops_when_the_watched_process_ends(
    workspace: Workspace,
) -> None:
    import re
    import subprocess
    import sys

    ui = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    collect = subprocess.Popen(
        [sys.executable, "-m", "promptyard", "collect", "--port", "0"]
        + ["--workspace", str(workspace.root), "--watch-pid", str(ui.pid)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert collect.stderr is not None
        line = collect.stderr.readline()
        url = re.search(r"(http://\S+)/v1/traces", line)
        assert url, line
        code, _ = post(f"{url.group(1)}/v1/traces", otlp_json([json_span()]), "application/json")
        assert code == 200
        assert [r["span_id"] for r in spans(workspace)] == [SPAN]
        ui.kill()  # the workbench ends, however it ends: the collector follows
        ui.wait()
        assert collect.wait(timeout=30) == 0
    finally:
        ui.kill()
        collect.kill()
        collect.wait()


def test_openllmetry_flat_messages_tool_call_parts_and_time_to_first_token(
    workspace: Workspace, collector: CollectorHandle
) -> None:
    output = [
        {
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "id": "call_1", "name": "lookup", "arguments": {"q": "x"}}
            ],
            "finish_reason": "tool_calls",
        }
    ]
    span = json_span(
        **{
            "gen_ai.system": "anthropic",
            "gen_ai.request.model": "claude-x",
            "gen_ai.prompt.0.role": "user",
            "gen_ai.prompt.0.content": "Find x",
            "gen_ai.output.messages": json.dumps(output),
            "gen_ai.response.time_to_first_chunk": 0.125,
            "gen_ai.request.stop_sequences": "END",
            "gen_ai.usage.prompt_tokens": 7,
            "gen_ai.usage.completion_tokens": 2,
        }
    )
    span["kind"] = "SPAN_KIND_CLIENT"  # an enum name is understood as well as its number
    span["attributes"].append(
        {
            "key": "app.tags",
            "value": {"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": 3}]}},
        }
    )
    assert post(f"{collector.url}/v1/traces", otlp_json([span]), "application/json")[0] == 200
    [row] = spans(workspace)
    assert row["kind"] == "client" and row["system"] == "anthropic"
    assert json.loads(row["input_messages_json"]) == [{"role": "user", "content": "Find x"}]
    [message] = json.loads(row["output_messages_json"])
    assert message["tool_calls"] == [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "lookup", "arguments": '{"q": "x"}'},
        }
    ]
    assert json.loads(row["finish_reasons_json"]) == ["tool_calls"]
    assert row["ttft_ms"] == pytest.approx(125.0)
    assert (row["input_tokens"], row["output_tokens"]) == (7, 2)
    assert row["cost_usd"] is None  # no price for this model: unknown, not free
    assert json.loads(row["parameters_json"]) == {"stop_sequences": "END"}
    assert json.loads(row["attributes_json"])["app.tags"] == ["a", 3]


def test_collect_on_a_port_in_use_is_one_line(
    workspace: Workspace, collector: CollectorHandle
) -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "promptyard", "collect", "--port", str(collector.port)]
        + ["--workspace", str(workspace.root)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    assert (
        out.stderr.startswith("error: cannot listen on 127.0.0.1:") and out.stderr.count("\n") == 1
    )


@pytest.mark.parametrize("parent_first", [True, False])
def test_a_child_in_another_request_gets_its_parents_prompt_user_and_session(
    workspace: Workspace, collector: CollectorHandle, parent_first: bool
) -> None:
    parent = json_span(
        span_id="aaaaaaaaaaaaaaaa",
        **{"promptyard.prompt.name": "summarize", "promptyard.prompt.version": 1, "user.id": "u9"},
    )
    child = json_span(**{"gen_ai.request.model": "sim-fast", "session.id": "s9"})
    child["parentSpanId"] = "aaaaaaaaaaaaaaaa"
    own = json_span(span_id="cccccccccccccccc", **{"promptyard.prompt.name": "other"})
    own["parentSpanId"] = "aaaaaaaaaaaaaaaa"
    first, second = ([parent], [child, own]) if parent_first else ([child, own], [parent])
    for batch in (first, second):
        assert post(f"{collector.url}/v1/traces", otlp_json(batch), "application/json")[0] == 200
    rows = {r["span_id"]: r for r in spans(workspace)}
    inherited = rows[SPAN]
    assert (inherited["prompt_name"], inherited["prompt_version"]) == ("summarize", 1)
    assert inherited["prompt_link"] == "linked"
    assert (inherited["user_id"], inherited["session_id"]) == ("u9", "s9")
    # A child naming its own prompt keeps it.
    assert (rows["cccccccccccccccc"]["prompt_name"], rows["cccccccccccccccc"]["prompt_link"]) == (
        "other",
        "unknown",
    )
    assert rows["cccccccccccccccc"]["prompt_version"] is None


@pytest.mark.postgres
def test_ingest_and_feedback_on_postgres(
    workspace: Workspace, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTYARD_DATABASE_URL", postgres_url)
    import promptyard

    child = json_span(
        **{
            "gen_ai.request.model": "sim-fast",
            "gen_ai.usage.input_tokens": 10,
            "gen_ai.usage.output_tokens": 4,  # without it the cost is unknown, and stays so
        }
    )
    child["parentSpanId"] = "aaaaaaaaaaaaaaaa"
    parent = json_span(
        span_id="aaaaaaaaaaaaaaaa",
        **{"promptyard.prompt.name": "summarize", "promptyard.prompt.version": 1},
    )
    with start_collector(workspace) as handle:
        for batch in ([child], [parent], [parent]):  # the parent second, then re-sent
            code, _ = post(f"{handle.url}/v1/traces", otlp_json(batch), "application/json")
            assert code == 200
        promptyard.feedback(TRACE, "quality", 5, endpoint=handle.url)
    rows = {r["span_id"]: r for r in spans(workspace)}
    assert len(rows) == 2 and rows[SPAN]["prompt_link"] == "linked"
    assert rows[SPAN]["cost_usd"] is not None
    with db.get_engine(workspace).connect() as conn:
        assert conn.execute(text("SELECT value FROM trace_feedback")).scalar_one() == 5.0
