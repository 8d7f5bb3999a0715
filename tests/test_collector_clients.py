"""Real clients send traces to `promptyard collect`: the openai SDK under the OpenTelemetry
contrib instrumentation (opentelemetry-instrumentation-openai-v2) and litellm's own
OpenTelemetry callback, both calling the simulator; the prompt version comes from
promptyard.prompt.* attributes on the app's parent span."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from promptyard.storage import db
from promptyard.traces import CollectorHandle, start_collector
from promptyard.workspace import Workspace

PROMPT = {
    "promptyard.prompt.name": "summarize",
    "promptyard.prompt.version": 1,
    "promptyard.prompt.variables": json.dumps({"text": "Cats sleep a lot."}),
    "user.id": "u-1",
    "session.id": "s-1",
}
MESSAGES = [
    {"role": "system", "content": "You summarize."},
    {"role": "user", "content": "Summarize: Cats sleep a lot."},
]


@pytest.fixture
def collector(workspace: Workspace) -> Iterator[CollectorHandle]:
    handle = start_collector(workspace)
    yield handle
    handle.stop()


def provider_for(url: str, service: str) -> Any:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{url}/v1/traces")))
    return provider


def llm_spans(ws: Workspace, wait_s: float = 20.0, count: int = 1) -> list[dict[str, Any]]:
    """The stored LLM spans, once `count` of them arrived (exporters send in the background)."""
    deadline = time.monotonic() + wait_s
    while True:
        with db.get_engine(ws).connect() as conn:
            rows = [
                dict(r._mapping)
                for r in conn.execute(text("SELECT * FROM span WHERE is_llm ORDER BY id"))
            ]
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def test_openai_sdk_under_the_contrib_instrumentation(
    workspace: Workspace, collector: CollectorHandle, sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    import openai
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    provider = provider_for(collector.url, "support-app")
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        client = openai.OpenAI(base_url=sim.url, api_key="sk-live-" + "Z9y8X7w6" * 3)
        tracer = provider.get_tracer("support-app")
        with tracer.start_as_current_span("handle ticket") as span:
            span.set_attributes(PROMPT)
            answer = client.chat.completions.create(
                model="sim-fast", messages=MESSAGES, temperature=0.3, max_tokens=60
            )
    finally:
        instrumentor.uninstrument()
        provider.shutdown()
    [row] = llm_spans(workspace)
    assert (row["request_model"], row["response_model"]) == ("sim-fast", "sim-fast")
    assert row["system"] == "openai" and row["operation"] == "chat"
    assert row["input_tokens"] == answer.usage.prompt_tokens
    assert row["output_tokens"] == answer.usage.completion_tokens
    assert row["cost_usd"] is not None and row["cost_usd"] > 0
    assert row["duration_ms"] > 0
    assert json.loads(row["input_messages_json"]) == MESSAGES
    assert row["output_text"] == answer.choices[0].message.content
    assert json.loads(row["parameters_json"]) == {"temperature": 0.3, "max_tokens": 60}
    assert (row["prompt_name"], row["prompt_version"], row["prompt_link"]) == (
        "summarize",
        1,
        "linked",
    )
    assert (row["user_id"], row["session_id"], row["service_name"]) == ("u-1", "s-1", "support-app")
    with db.get_engine(workspace).connect() as conn:
        assert "Z9y8X7w6" not in json.dumps(
            [list(r) for r in conn.execute(text("SELECT * FROM span"))], default=str
        )


def test_litellm_otel_callback(
    workspace: Workspace, collector: CollectorHandle, sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER", "otlp_http")
    monkeypatch.setenv("OTEL_ENDPOINT", f"{collector.url}/v1/traces")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "litellm-app")
    # Under an active parent span litellm writes onto that span instead of its own, which
    # it may do after the app ended it; this makes it send its own child span.
    monkeypatch.setenv("USE_OTEL_LITELLM_REQUEST_SPAN", "true")
    import litellm

    monkeypatch.setattr(litellm, "callbacks", ["otel"])
    provider = provider_for(collector.url, "litellm-app")
    tracer = provider.get_tracer("litellm-app")
    with tracer.start_as_current_span("answer") as span:
        span.set_attributes(PROMPT)
        answer = litellm.completion(
            model="openai/sim-smart",
            api_base=sim.url,
            api_key="sk-test-" + "Q1w2E3r4" * 3,
            messages=MESSAGES,
            temperature=0.1,
        )
    provider.shutdown()
    # litellm's exporter sends its span in the background, maybe after the parent.
    [row] = llm_spans(workspace)
    assert row["request_model"] == "sim-smart" and row["system"] == "openai"
    assert row["input_tokens"] == answer.usage.prompt_tokens
    assert row["output_tokens"] == answer.usage.completion_tokens
    assert row["cost_usd"] is not None and row["cost_usd"] > 0
    assert json.loads(row["input_messages_json"]) == MESSAGES
    assert row["output_text"] == answer.choices[0].message.content
    assert json.loads(row["finish_reasons_json"]) == ["stop"]
    # The app's parent span carried the prompt: it reaches litellm's span across requests.
    assert (row["prompt_name"], row["prompt_version"], row["prompt_link"]) == (
        "summarize",
        1,
        "linked",
    )
    assert (row["user_id"], row["session_id"]) == ("u-1", "s-1")
