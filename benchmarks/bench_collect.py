"""How fast `promptyard collect` stores spans sent by the real OpenTelemetry exporter.

Starts `promptyard collect` (a subprocess, SQLite in a fresh `promptyard init` workspace)
and sends it LLM spans with typical GenAI attributes (models, tokens, parameters, input
and output messages, the promptyard.prompt.* link, user and session), two ways:
- end to end: an app's TracerProvider with a BatchSpanProcessor (batches of 512) and the
  OTLP/HTTP protobuf exporter, from the first span made until the last one is stored;
- the exporter alone: the same spans made first, then OTLPSpanExporter.export() of each
  512-span batch in turn (encode, POST, the collector decodes, maps and stores).

    PYTHONPATH=src .venv/bin/python benchmarks/bench_collect.py [--spans 20000]

Prints a table; the numbers go in docs/benchmarks.md ("## Trace ingest").
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: E402
from opentelemetry.sdk.resources import Resource  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind  # noqa: E402

from promptyard.versioning.init import init_workspace  # noqa: E402

BATCH = 512
INPUT = json.dumps(
    [
        {"role": "system", "parts": [{"type": "text", "content": "You answer support tickets."}]},
        {"role": "user", "parts": [{"type": "text", "content": "My order #{n} is late. " * 6}]},
    ]
)
OUTPUT = json.dumps(
    [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Sorry about the delay; it ships today. " * 4}],
            "finish_reason": "stop",
        }
    ]
)


def make_spans(provider: TracerProvider, count: int) -> None:
    tracer = provider.get_tracer("bench")
    for n in range(count):
        with tracer.start_as_current_span("chat sim-fast", kind=SpanKind.CLIENT) as span:
            span.set_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "sim-fast",
                    "gen_ai.response.model": "sim-fast",
                    "gen_ai.request.temperature": 0.2,
                    "gen_ai.request.max_tokens": 256,
                    "gen_ai.usage.input_tokens": 120 + n % 50,
                    "gen_ai.usage.output_tokens": 40 + n % 30,
                    "gen_ai.response.finish_reasons": ["stop"],
                    "gen_ai.response.id": f"chatcmpl-{n}",
                    "gen_ai.input.messages": INPUT.replace("{n}", str(n)),
                    "gen_ai.output.messages": OUTPUT,
                    "promptyard.prompt.name": "summarize",
                    "promptyard.prompt.version": 1,
                    "promptyard.prompt.label": "production",
                    "user.id": f"user-{n % 300}",
                    "session.id": f"session-{n % 1000}",
                    "app.region": "eu-west",
                }
            )


def stored(url: str) -> int:
    with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
        return int(json.loads(response.read())["spans_received"])


def wait_for(url: str, count: int, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while stored(url) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {stored(url)} of {count} spans stored in {timeout:.0f} s")
        time.sleep(0.05)


def start_collector(root: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "promptyard", "collect", "--port", "0", "--workspace", str(root)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    found = re.search(r"(http://\S+)/v1/traces", line)
    if not found:
        proc.kill()
        raise SystemExit(f"the collector did not start: {line}")
    return proc, found.group(1)


def end_to_end(url: str, count: int, before: int) -> float:
    provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
    exporter = OTLPSpanExporter(endpoint=f"{url}/v1/traces")
    provider.add_span_processor(
        BatchSpanProcessor(
            exporter,
            max_queue_size=count + BATCH,
            max_export_batch_size=BATCH,
            schedule_delay_millis=200,
        )
    )
    start = time.perf_counter()
    make_spans(provider, count)
    provider.force_flush()
    wait_for(url, before + count)
    elapsed = time.perf_counter() - start
    provider.shutdown()
    return elapsed


def exporter_only(url: str, count: int, before: int) -> tuple[float, float]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    made = time.perf_counter()
    make_spans(provider, count)
    made = time.perf_counter() - made
    finished = memory.get_finished_spans()
    exporter = OTLPSpanExporter(endpoint=f"{url}/v1/traces")
    start = time.perf_counter()
    for i in range(0, len(finished), BATCH):
        exporter.export(finished[i : i + BATCH])
    wait_for(url, before + count)
    return time.perf_counter() - start, made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=20_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-collect-"))
    rows: list[tuple[str, str, str]] = []
    try:
        root = init_workspace(tmp / "ws").root
        proc, url = start_collector(root)
        try:
            e2e = end_to_end(url, args.spans, 0)
            rows.append(
                ("BatchSpanProcessor, end to end", f"{e2e:6.2f}", f"{args.spans / e2e:8.0f}")
            )
            alone, made = exporter_only(url, args.spans, args.spans)
            rows.append(
                (
                    "exporter.export() of 512-span batches",
                    f"{alone:6.2f}",
                    f"{args.spans / alone:8.0f}",
                )
            )
            rows.append(
                (
                    "(the SDK making those spans, not sent)",
                    f"{made:6.2f}",
                    f"{args.spans / made:8.0f}",
                )
            )
        finally:
            proc.terminate()
            proc.wait(30)
        db = root / ".promptyard" / "promptyard.db"
        size = db.stat().st_size + sum(p.stat().st_size for p in db.parent.glob("*.db-wal"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{args.spans} spans a way, SQLite, {os.cpu_count()} cores")
    print(f"{'what':42} {'seconds':>7} {'spans/s':>9}")
    for label, seconds, rate in rows:
        print(f"{label:42} {seconds:>7} {rate:>9}")
    print(f"database after {2 * args.spans} spans: {size / 1024**2:.1f} MiB")


if __name__ == "__main__":
    main()
