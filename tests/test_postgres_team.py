"""A team on one PostgreSQL: raters, two CLI runs and the collector write at once, and the
rows are all there afterwards (scripts/test.sh starts the throwaway server)."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import threading
import urllib.request
from typing import Any

import pytest
from sqlalchemy import text

from promptyard import runs
from promptyard.ratings import rate_cell
from promptyard.storage import db
from promptyard.traces import start_collector
from promptyard.workspace import Workspace

pytestmark = pytest.mark.postgres

RATERS = 4
REQUESTS_PER_SENDER, SPANS_PER_REQUEST, SENDERS = 10, 5, 3


def _otlp(n_spans: int) -> bytes:
    spans = [
        {
            "traceId": secrets.token_hex(16),
            "spanId": secrets.token_hex(8),
            "name": "chat gpt-4o-mini",
            "kind": 3,
            "startTimeUnixNano": "1764590400000000000",
            "endTimeUnixNano": "1764590400250000000",
            "attributes": [
                {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o-mini"}},
                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "12"}},
            ],
        }
        for _ in range(n_spans)
    ]
    body = {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": spans}]}]}
    return json.dumps(body).encode()


def _count(ws: Workspace, sql: str, **params: Any) -> int:
    with db.get_engine(ws).connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def test_raters_two_cli_runs_and_the_collector_at_once_lose_nothing(
    workspace: Workspace, postgres_url: str, sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTYARD_DATABASE_URL", postgres_url)
    plan = runs.plan_run(
        workspace, [("summarize", None)], ["sim-fast"], ("summaries", None), slice="head:6"
    )
    rated_run = runs.run_sync(workspace, runs.create_run(workspace, plan))
    cell_ids = [
        r[0]
        for r in db.get_engine(workspace)
        .connect()
        .execute(text("SELECT id FROM cell WHERE run_id = :r"), {"r": rated_run.run_id})
    ]
    assert len(cell_ids) == 6
    collector = start_collector(workspace)
    failures: list[BaseException] = []

    def rater(n: int) -> None:  # one UI session: a person rating every cell twice over
        try:
            for cell_id in cell_ids:
                rate_cell(workspace, cell_id, "quality", 1 + (cell_id + n) % 5, f"rater-{n}")
                rate_cell(workspace, cell_id, "thumbs", n % 2 == 0, f"rater-{n}")
        except BaseException as exc:  # noqa: BLE001 - reported below, the test fails
            failures.append(exc)

    def sender() -> None:  # one instrumented application exporting spans
        try:
            for _ in range(REQUESTS_PER_SENDER):
                request = urllib.request.Request(
                    f"{collector.url}/v1/traces",
                    data=_otlp(SPANS_PER_REQUEST),
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(request, timeout=30) as answer:
                    assert answer.status == 200
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)

    cli = [sys.executable, "-m", "promptyard", "run", "-p", "summarize", "-d", "summaries"]
    cli_runs = [
        subprocess.Popen(
            [*cli, "-m", model, "--no-cache", "--json"],
            cwd=workspace.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for model in ("sim-fast", "sim-smart")
    ]
    threads = [threading.Thread(target=rater, args=(n,)) for n in range(RATERS)]
    threads += [threading.Thread(target=sender) for _ in range(SENDERS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        outputs = [proc.communicate(timeout=300) for proc in cli_runs]
    finally:
        collector.stop()
    assert not failures, failures
    assert [proc.returncode for proc in cli_runs] == [0, 0], [err for _, err in outputs]
    rows = len((workspace.datasets_dir / "summaries.jsonl").read_text("utf-8").splitlines())
    for out, _ in outputs:
        run_id = json.loads(out)["run_id"]
        assert _count(workspace, "SELECT COUNT(*) FROM cell WHERE run_id = :r", r=run_id) == rows
        ok = "SELECT COUNT(*) FROM cell WHERE run_id = :r AND status = 'ok'"
        assert _count(workspace, ok, r=run_id) == rows
        # scored on completion by the suites that fit, in the CLI's own process
        done = (
            "SELECT COUNT(*) FROM job WHERE run_id = :r AND kind = 'score' AND status = 'completed'"
        )
        assert _count(workspace, done, r=run_id) == 1
    assert _count(workspace, "SELECT COUNT(*) FROM rating") == RATERS * len(cell_ids) * 2
    assert _count(workspace, "SELECT COUNT(DISTINCT rater) FROM rating") == RATERS
    spans = SENDERS * REQUESTS_PER_SENDER * SPANS_PER_REQUEST
    assert _count(workspace, "SELECT COUNT(*) FROM span") == spans
    assert _count(workspace, "SELECT COUNT(*) FROM run WHERE kind = 'run'") == 3


def test_the_traces_list_on_postgres_stores_nanoseconds_and_searches_in_any_case(
    workspace: Workspace, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promptyard.traces import SpanFilters, list_spans
    from tests.traces_seed import add, llm_span, trace_id

    monkeypatch.setenv("PROMPTYARD_DATABASE_URL", postgres_url)
    add(workspace, llm_span(1), llm_span(2, output="Your REFUND_ID is 100% ready"))
    found = list_spans(workspace, SpanFilters(text="refund_id is 100%")).spans
    assert [r.trace_id for r in found] == [trace_id(2)]
