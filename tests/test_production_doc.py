"""The app of docs/production.md runs as written: in a folder with no git, from a bundle, the
openai SDK calling the simulator, its OpenTelemetry spans carrying the prompt version."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import promptyard
from promptyard.workspace import Workspace
from tests.cli import run_cli

DOC = Path(__file__).resolve().parent.parent / "docs" / "production.md"


@pytest.fixture
def otlp_bodies() -> Iterator[tuple[str, list[bytes]]]:
    """A bare OTLP/HTTP endpoint on 127.0.0.1 that keeps each POSTed body."""
    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1/traces", bodies
    server.shutdown()
    server.server_close()


def _spans(bodies: list[bytes]) -> list[tuple[str, dict[str, Any]]]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    out = []
    for body in bodies:
        request = ExportTraceServiceRequest.FromString(body)
        for resource in request.resource_spans:
            for scope in resource.scope_spans:
                for span in scope.spans:
                    attrs = {}
                    for kv in span.attributes:
                        value = kv.value
                        attrs[kv.key] = getattr(value, value.WhichOneof("value"))
                    out.append((span.name, attrs))
    return out


def test_the_production_app_runs_from_a_bundle_with_no_git(
    workspace: Workspace, tmp_path: Path, sim: Any, otlp_bodies: tuple[str, list[bytes]]
) -> None:
    app_code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert app_code is not None
    promptyard.label_prompt("summarize", "v2", "production")
    app = tmp_path / "app"
    app.mkdir()
    run_cli(
        "bundle", "--label", "production", "--out", str(app / "prompts.bundle.json"),
        home=workspace.root, check=True,
    )  # fmt: skip
    (app / "app.py").write_text(app_code.group(1))
    url, bodies = otlp_bodies
    env = {k: v for k, v in os.environ.items() if k not in ("PROMPTYARD_HOME", "PROMPTYARD_BUNDLE")}
    env.update(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=url, PYTHONPATH=os.pathsep.join(sys.path))
    shutil.rmtree(workspace.root / ".git")  # nothing may reach for the workspace's git
    done = subprocess.run(
        [sys.executable, "app.py"], cwd=app, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()  # the simulator's answer
    spans = dict(_spans(bodies))
    outer = spans["summarize"]
    assert outer["promptyard.prompt.name"] == "summarize"
    assert outer["promptyard.prompt.version"] == 2
    assert outer["promptyard.prompt.label"] == "production"
    assert outer["promptyard.prompt.variables"] == '{"text": "My desk arrived with a cracked leg."}'
    assert (outer["user.id"], outer["session.id"]) == ("user-42", "session-1")
    [llm] = [a for name, a in spans.items() if name != "summarize"]
    assert llm["gen_ai.request.model"] == "sim-fast"
    assert llm["gen_ai.usage.output_tokens"] > 0
