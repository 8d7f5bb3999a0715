"""Recorded latency is the provider's: servers at a known fixed latency, and the latency
each cell records, first cells included.

The bounds are generous on purpose (this is not a speed test of the machine): they hold
for any recorded latency near the server's, and fail when a cell's latency carries the
client's start-up, first connection or queueing (the first cells once recorded ~1,650 ms
against a simulator that answered at once).

The run goes to the benchmarks' fixed-latency server (an aiohttp app that only waits,
under 0.1 ms of CPU per answer) rather than the simulator: at concurrency 64 the lean
client asks the simulator for more answers a second than it can give (about 450 here),
so the simulator itself answers late, and the late answer is what the provider really took. On a machine too
loaded to run even that server on time, the bounds follow what the server says it took
(from each request's arrival in its kernel), not its nominal latency.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from sqlmodel import select

from promptyard import runs
from promptyard.models import ModelCall, complete, resolve_model
from promptyard.storage import db
from promptyard.storage.tables import Cell, Variant
from tests.fixed_server import fixed_latency_server

LATENCY_MS = 5.0
SMART_FACTOR = 2.0  # `smart` answers twice as slowly as `fast`
SLACK_MS = 100.0  # far above scheduling noise, far below start-up or warm-up costs
FIRST_SLACK_MS = 200.0  # the first cells: far below the ~700 ms once recorded
CELLS = 128


@pytest.fixture
def fixed_models(workspace: Any) -> Iterator[dict[str, tuple[float, str]]]:
    """Two models.yaml models on fixed-latency servers (own processes): `fast` answers in
    LATENCY_MS, `smart` in twice that. Yields each model's latency and server url."""
    latencies = {"fast": LATENCY_MS, "smart": LATENCY_MS * SMART_FACTOR}
    with ExitStack() as servers:
        entries, models = "", {}
        for name, ms in latencies.items():
            url = servers.enter_context(fixed_latency_server(ms))
            entries += f"  {name}:\n    model: openai/fixed\n    api_base: {url}\n"
            models[name] = (ms, url)
        (workspace.root / "models.yaml").write_text("models:\n" + entries)
        yield models


def _latencies(ws: Any, run_id: int) -> dict[str, list[float]]:
    with db.session(ws) as s:
        models = {v.id: v.model for v in s.execute(select(Variant)).scalars()}
        cells = s.execute(select(Cell).where(Cell.run_id == run_id).order_by(Cell.id)).scalars()
        out: dict[str, list[float]] = {}
        for c in cells:
            assert c.status == "ok", c.error_message
            assert c.latency_ms is not None
            out.setdefault(models[c.variant_id], []).append(c.latency_ms)
        return out


def _server_wire_ms(url: str) -> list[float]:
    """The server's own measure of its answers, from each request's arrival in its kernel
    to the answer written: what the server really took, on a machine too loaded to run
    it on time (a 5 ms server then takes 60)."""
    values: list[float] = httpx.get(url.replace("/v1", "/stats/wire"), timeout=30).json()
    return values


def test_every_cell_records_the_servers_latency_first_cells_included(
    workspace: Any, fixed_models: dict[str, tuple[float, str]]
) -> None:
    # Two models share 64 global slots with 64 workers each: cells queue for a slot, and
    # that wait is Promptyard's, not the provider's; so is this loop's backlog of answers.
    plan = runs.plan_run(
        workspace,
        [("summarize", None)],
        list(fixed_models),
        ("summaries", None),
        slice="head:16",
        repeats=CELLS // 32,
    )
    run_id = runs.create_run(workspace, plan, concurrency=64, use_cache=False)
    runs.run_sync(workspace, run_id)
    recorded = _latencies(workspace, run_id)
    for model, (server_ms, url) in fixed_models.items():
        values = recorded[model]
        assert len(values) == CELLS // 2
        assert min(values) >= server_ms - 1, (model, values)
        # What the server took: its fixed latency, or more when the machine ran it late.
        took = sorted(_server_wire_ms(url))
        median_took = max(server_ms, took[len(took) // 2])
        slow_took = max(server_ms, took[int(len(took) * 0.9)])
        # the first cells (client start-up, first connections: before, every one of them
        # carried ~280 ms of it), and the median overall. The median of the first eight,
        # not their max: on a loaded machine one call can be descheduled for real.
        assert sorted(values[:8])[4] <= slow_took + FIRST_SLACK_MS, (model, values[:8], took)
        assert sorted(values)[len(values) // 2] <= median_took + SLACK_MS / 2, (values, took)


def test_a_streamed_call_times_its_first_token_from_the_wire(
    workspace: Any, fixed_models: dict[str, tuple[float, str]]
) -> None:
    server_ms, url = fixed_models["fast"]
    endpoint = resolve_model(workspace, "fast")
    messages = [{"role": "user", "content": "Say something long."}]
    call = ModelCall(endpoint=endpoint, messages=messages, stream=True)
    result = asyncio.run(complete(call))
    assert result.ok, result.error_message
    assert result.ttft_ms is not None
    # the server sends its first token after its latency, then finishes at once
    assert 0 < result.ttft_ms <= result.latency_ms
    took = max(server_ms, *_server_wire_ms(url))
    assert server_ms - 2 <= result.latency_ms <= took + SLACK_MS
