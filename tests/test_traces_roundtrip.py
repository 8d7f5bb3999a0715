"""The whole way back: an app's real OpenTelemetry spans (the openai SDK under the contrib
instrumentation, calling the simulator) reach `promptyard collect`, show in the Traces
queries with their prompt version and feedback, and become a dataset a run can plan over.

Needs the collector (traces.collector); skipped on a branch without it.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

collector = pytest.importorskip("promptyard.traces.collector")

from promptyard import datasets, traces  # noqa: E402
from promptyard.runs import plan_run  # noqa: E402
from promptyard.traces import SpanFilters  # noqa: E402
from promptyard.workspace import Workspace  # noqa: E402


def _wait_for(ws: Workspace, count: int) -> list[traces.SpanRow]:
    deadline = time.monotonic() + 20
    while True:
        rows = traces.list_spans(ws, SpanFilters()).spans
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def test_real_spans_to_detail_feedback_and_a_dataset(
    workspace: Workspace, sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    import openai
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    handle = collector.start_collector(workspace)
    provider = TracerProvider(resource=Resource.create({"service.name": "support-app"}))
    exporter = OTLPSpanExporter(endpoint=f"{handle.url}/v1/traces")
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    texts = ["Cats sleep a lot.", "Dogs bark at night.", "Birds sing at dawn."]
    try:
        client = openai.OpenAI(base_url=sim.url, api_key="sk-test")
        tracer = provider.get_tracer("support-app")
        for i, text in enumerate(texts):
            with tracer.start_as_current_span("handle ticket") as span:
                span.set_attributes(
                    {
                        "promptyard.prompt.name": "summarize",
                        "promptyard.prompt.version": 1,
                        "promptyard.prompt.variables": json.dumps({"text": text}),
                        "user.id": "u-1",
                        "session.id": "s-1",
                    }
                )
                client.chat.completions.create(
                    model="sim-fast",
                    messages=[{"role": "user", "content": f"Summarize: {text}"}],
                    max_tokens=40,
                )
            if i == 0:
                first_trace = format(span.get_span_context().trace_id, "032x")
    finally:
        instrumentor.uninstrument()
        provider.shutdown()
    try:
        rows = _wait_for(workspace, 3)
        assert len(rows) == 3
        assert {(r.prompt_name, r.prompt_version) for r in rows} == {("summarize", 1)}
        assert all(r.cost_usd is not None and r.input_tokens for r in rows)
        traces.record_feedback(
            workspace, {"trace_id": first_trace, "name": "thumbs", "value": True}
        )
        detail = traces.trace_detail(workspace, first_trace)
        assert [s.name for s in detail.spans][0] == "handle ticket"
        llm = detail.llm_spans[0]
        assert llm.input_messages[-1]["content"] == "Summarize: Cats sleep a lot."
        assert llm.prompt_link == "linked" and llm.depth == 1
        assert [f.value for f in detail.feedback] == [1.0]
        view = traces.session_turns(workspace, "s-1")
        assert len(view.turns) == 3 and view.turns[0].trace_id == first_trace

        added = traces.traces_to_dataset(
            workspace, "from_prod", span_ids=[r.id for r in rows], reference_from_output=True
        )
        assert added.added == 3
        ds = datasets.load_dataset(workspace, "from_prod")
        assert {r["text"] for r in ds.rows} == set(texts)
        plan = plan_run(workspace, [("summarize", None)], ["sim-fast"], ("from_prod", None))
        assert len(plan.cells) == 3
    finally:
        handle.stop()
