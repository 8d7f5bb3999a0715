"""Issue 13 "Done when", as far as monitors go: traffic through the real collector in which
a prompt's new version halves an evaluator's pass rate; the monitor fires within one window,
the webhook receiver on 127.0.0.1 gets the alert, and `promptyard monitor check` exits 1.

The pass/fail verdicts come from online evaluation (evals.online) of the collected spans:
a suite with `online:` checks that each answer keeps the ticket's order number.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from typer.testing import CliRunner

from promptyard.cli import app
from promptyard.evals.online import score_pending_now
from promptyard.monitoring import deliverer_for, list_alerts, run_checks
from promptyard.traces import CollectorHandle, start_collector
from promptyard.workspace import Workspace

MINUTE = 60 * 10**9
SUITE = """\
description: live summaries keep the order number
prompts: [summarize]
online: true
assert:
  - type: contains
    value: "48213"
    name: keeps_numbers
"""
MONITORS = """monitors:
  - name: summarize-quality
    metric: pass_rate
    evaluator: keeps_numbers
    filter: {prompt: summarize}
    window: 1h
    condition: {decline: previous_version}
    min_count: 20
    webhook_env: ALERT_WEBHOOK_URL
"""


@pytest.fixture
def collector(workspace: Workspace) -> Iterator[CollectorHandle]:
    handle = start_collector(workspace)
    yield handle
    handle.stop()


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    bodies: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/secret-part", bodies
    server.shutdown()
    server.server_close()


def _attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def llm_span(n: int, start_ns: int, version: int, keeps: bool) -> dict[str, Any]:
    output = "Order #48213 arrived broken." if keeps else "An order arrived broken."
    attrs = {
        "gen_ai.output.messages": json.dumps(
            [{"role": "assistant", "parts": [{"type": "text", "content": output}]}]
        ),
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "sim-fast",
        "gen_ai.response.model": "sim-fast",
        "gen_ai.usage.input_tokens": 20,
        "gen_ai.usage.output_tokens": 8,
        "promptyard.prompt.name": "summarize",
        "promptyard.prompt.version": version,
    }
    return {
        "traceId": f"{n + 1:032x}",
        "spanId": f"{n + 1:016x}",
        "name": "chat sim-fast",
        "kind": 3,
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(start_ns + 300_000_000),
        "status": {"code": 1},
        "attributes": [_attr(k, v) for k, v in attrs.items()],
    }


def send(url: str, spans: list[dict[str, Any]]) -> None:
    import urllib.request

    body = {
        "resourceSpans": [
            {
                "resource": {"attributes": [_attr("service.name", "summarizer")]},
                "scopeSpans": [{"scope": {"name": "app"}, "spans": spans}],
            }
        ]
    }
    request = urllib.request.Request(
        f"{url}/v1/traces",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def test_a_new_version_that_halves_the_pass_rate_fires_and_reaches_the_webhook(
    workspace: Workspace,
    collector: CollectorHandle,
    receiver: tuple[str, list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, bodies = receiver
    monkeypatch.setenv("ALERT_WEBHOOK_URL", url)
    (workspace.root / "monitors.yaml").write_text(MONITORS, encoding="utf-8")
    now = time.time_ns()
    # v1 for the hour before, then v2 from 50 minutes ago: 40 calls each.
    # v1 keeps the number in 8 answers of every 10, v2 in 4: online evaluation finds it.
    old = [llm_span(i, now - 110 * MINUTE + i * MINUTE, 1, i % 10 < 8) for i in range(40)]
    new = [llm_span(40 + i, now - 50 * MINUTE + i * MINUTE, 2, i % 10 < 4) for i in range(40)]
    send(collector.url, old)
    send(collector.url, new)
    (workspace.evals_dir / "live.yaml").write_text(SUITE, encoding="utf-8")
    assert score_pending_now(workspace).scores == 80

    deliverer = deliverer_for(workspace)
    report = run_checks(workspace, deliverer=deliverer)
    [result] = report.fired
    assert (result.value, result.baseline) == (pytest.approx(0.4), pytest.approx(0.8))
    assert result.scope["version"] == 2 and result.scope["baseline_version"] == 1
    assert result.p_value is not None and result.p_value < 0.001
    # The new version in traffic got its own before/after comparison.
    [change] = [c for c in report.changes if c.change.startswith("prompt summarize v2")]
    assert (change.before, change.after, change.worse) == (0.8, 0.4, True)

    assert deliverer.wait(30)
    [body] = bodies
    assert "summarize-quality" in body["text"] and body["blocks"]
    [alert] = list_alerts(workspace)
    assert alert.delivered and len(alert.span_ids) == 24  # v2's failing spans
    # For cron and CI: the command exits 1 while the decline lasts.
    result_cli = CliRunner().invoke(app, ["monitor", "check", "--workspace", str(workspace.root)])
    assert result_cli.exit_code == 1, result_cli.output
    assert "FIRED summarize-quality" in result_cli.output
