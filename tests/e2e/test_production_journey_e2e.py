"""Issue 12's "Done when", walked in a real browser: a bundle leaves the workspace, an app in a
folder with no git loads it and calls the simulator through the openai SDK under the
OpenTelemetry instrumentation, its spans reach a real `promptyard collect`, show on the
Traces page with the prompt version, one user's feedback shows on its trace, and three of
those traces become a dataset version that a run plans over and executes on, and the
dashboard counts the feedback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import promptyard
from promptyard import datasets, runs, traces
from promptyard.traces import SpanFilters
from promptyard.workspace import Workspace
from tests.cli import run_cli
from tests.e2e.conftest import ROOT, free_port, screenshot, wait_idle

pytestmark = pytest.mark.e2e

ROW_PX = 35  # st.dataframe's row height (and its header's)

# The application: what docs/production.md shows, plus a session of turns and one user's
# thumbs-up. It prints the trace ids it made, oldest first, as JSON.
APP = textwrap.dedent(
    """
    import json
    import sys

    import promptyard
    from openai import OpenAI
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "support-app"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    OpenAIInstrumentor().instrument()
    tracer = trace.get_tracer("support-app")

    prompt = promptyard.get_prompt("summarize", label="production")  # $PROMPTYARD_BUNDLE
    assert "git" not in sys.modules, "loading from a bundle imported git"
    model = promptyard.resolve_model(prompt)
    client = OpenAI(base_url=model.base_url, api_key=model.client_key())

    TURNS = [
        ("alice", "chat-a", "My desk arrived with a cracked leg."),
        ("bob", "chat-b", "The chair is missing two screws."),
        ("alice", "chat-a", "Can I get a refund instead?"),
        ("alice", "chat-a", "Thanks, a new leg is fine."),
    ]
    made = []
    for user, session, text in TURNS:
        with tracer.start_as_current_span("summarize") as span:
            span.set_attributes(prompt.trace_attributes(text=text))
            span.set_attributes({"user.id": user, "session.id": session})
            reply = client.chat.completions.create(
                messages=prompt.render(text=text), **model.openai_kwargs()
            )
            assert reply.choices[0].message.content
        made.append(format(span.get_span_context().trace_id, "032x"))
    provider.force_flush()  # stored before the feedback names the trace
    promptyard.feedback(trace_id=made[-1], name="thumbs", value=True, comment="spot on, thanks")
    provider.shutdown()
    print(json.dumps(made))
    """
)


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"promptyard collect exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s:\n{log.read_text()}")


@pytest.fixture
def collect(workspace: Workspace, tmp_path: Path) -> Iterator[str]:
    """`promptyard collect` on the test's workspace, in its own process: its base URL."""
    port = free_port()
    log = tmp_path / "collect.log"
    env = {k: v for k, v in os.environ.items() if k != "PROMPTYARD_BUNDLE"}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "promptyard", "collect", "--port", str(port)],
            cwd=ROOT,
            env={**env, "PROMPTYARD_HOME": str(workspace.root)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{url}/health", proc, log)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _run_app(workspace: Workspace, tmp_path: Path, collector: str) -> list[str]:
    app = tmp_path / "app"  # beside the workspace, not in it: no git above it
    app.mkdir()
    run_cli(
        "bundle", "--label", "production", "--out", str(app / "prompts.bundle.json"),
        home=workspace.root, check=True,
    )  # fmt: skip
    (app / "app.py").write_text(APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROMPTYARD_", "OTEL_"))}
    env.update(
        PYTHONPATH=os.pathsep.join(sys.path),
        PROMPTYARD_BUNDLE="prompts.bundle.json",
        PROMPTYARD_SIMULATOR_URL=os.environ["PROMPTYARD_SIMULATOR_URL"],
        PROMPTYARD_COLLECTOR_URL=collector,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=f"{collector}/v1/traces",
        OTEL_SEMCONV_STABILITY_OPT_IN="gen_ai_latest_experimental",
        OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="SPAN_ONLY",
        GIT_CEILING_DIRECTORIES=str(tmp_path),
    )
    done = subprocess.run(
        [sys.executable, "app.py"], cwd=app, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    made: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return made


def test_bundle_app_traces_feedback_and_a_dataset_a_run_uses(
    page: Any, app_url: str, workspace: Workspace, sim: Any, collect: str, tmp_path: Path
) -> None:
    promptyard.label_prompt("summarize", "v2", "production", workspace=workspace)
    made = _run_app(workspace, tmp_path, collect)
    assert len(made) == 4

    page.goto(f"{app_url}/traces")
    wait_idle(page)
    page.get_by_text("Showing 1–4 of 4 spans, newest first").wait_for()
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for()
    # The grid draws on a canvas; its accessible table holds the cells' text.
    cells = grid.locator("table [role=gridcell]")
    cells.first.wait_for(state="attached")
    texts = cells.all_inner_texts()
    assert texts.count("summarize v2") == 4, texts
    assert {"alice", "bob"} <= set(texts)
    box = grid.bounding_box()
    assert box is not None

    # The newest row is alice's thanked turn: its trace opens with the feedback.
    page.mouse.click(box["x"] + 12, box["y"] + ROW_PX * 1.5)
    wait_idle(page)
    page.get_by_text(f"Trace {made[-1][:12]}…").wait_for()
    page.locator(".js-plotly-plot .main-svg").first.wait_for()
    page.get_by_text("spot on, thanks").first.wait_for(state="attached")
    page.get_by_text("Thanks, a new leg is fine.").first.wait_for(state="attached")
    page.get_by_role("button", name="Open summarize v2 on the Prompts page").wait_for()
    page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    wait_idle(page)
    screenshot(page, "production-journey-trace")
    page.screenshot(path=str(tmp_path / "trace-detail.png"), full_page=True)
    page.locator("strong", has_text="Feedback").first.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "trace-feedback.png"))

    # Two more rows (the newest three traces), then into a new dataset.
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box is not None
    for row in (1, 2):
        page.mouse.click(box["x"] + 12, box["y"] + ROW_PX * (row + 1.5))
        wait_idle(page)
    page.get_by_role("button", name="Add 3 to a dataset").click()
    wait_idle(page)
    page.get_by_role("textbox", name="Dataset name").fill("from_prod")
    page.keyboard.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Add rows").click()
    wait_idle(page)
    page.get_by_text("Added 3 traces to from_prod v1 (new dataset).").wait_for()
    assert not page.errors, page.errors

    ds = datasets.load_dataset(workspace, "from_prod")
    assert {row["trace_id"] for row in ds.rows} == set(made[1:])
    assert {row["text"] for row in ds.rows} == {
        "The chair is missing two screws.",
        "Can I get a refund instead?",
        "Thanks, a new leg is fine.",
    }
    assert [s.user_id for s in traces.list_spans(workspace, SpanFilters(user_id="bob")).spans] == [
        "bob"
    ]

    # A run plans over that dataset version and executes on it. Playwright's sync API keeps
    # an event loop in this thread, so the run's own loop goes in another.
    plan = runs.plan_run(
        workspace, [("summarize", "production")], ["sim-fast"], ("from_prod", "v1")
    )
    assert len(plan.cells) == 3
    run_id = runs.create_run(workspace, plan)
    with ThreadPoolExecutor(1) as pool:
        summary = pool.submit(runs.run_sync, workspace, run_id).result(timeout=60)
    assert (summary.ok, summary.errors) == (3, 0)

    # The dashboard counts the end user's thumbs-up beside the workbench's own ratings.
    page.goto(f"{app_url}/dashboard")
    wait_idle(page)
    page.get_by_text("End-user feedback (production)").wait_for()
    assert not page.errors, page.errors
