"""Per-call overhead of Promptyard's model calls against the plain `openai` SDK.

The simulator runs in its own process at 50 ms latency; every client makes the same
2,000 chat calls at concurrency 32, in the same run, in alternating rounds:

- `AsyncOpenAI`: the plain SDK, `chat.completions.create` (the baseline);
- `models.complete`: what the engine calls; the simulator is OpenAI-compatible, so its
  provider is the lean path (a shared aiohttp session, no SDK);
- `models.complete` for the same endpoint with `provider: litellm`: through
  `litellm.acompletion` (what any non-OpenAI-compatible endpoint pays);
- the engine: `runs.run_sync` of a 2,000-cell run (one template, cache off), so
  rendering, scheduling, retries bookkeeping and the batched SQLite writer count too.

Prints a table with calls per second, client CPU ms per call and the ratios (target: the
engine >= 0.8 of the SDK's throughput).

    PYTHONPATH=src .venv/bin/python benchmarks/bench_overhead.py [--calls 2000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from promptyard._env import configure_offline_defaults

SYSTEM = "Summarize the support ticket in one sentence."
TICKET = (
    "My order #{i} arrived with a cracked screen. I want a replacement, not a refund, "
    "and I need it before Friday because it is a birthday present."
)
TEMPLATE = f"---\nname: bench\n---\nsystem:\n{SYSTEM}\n\nuser:\n{TICKET.format(i='{{ i }}')}\n"
Result = tuple[float, int, float]  # wall s, errors, client CPU ms per call


def messages(i: int) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": TICKET.format(i=i)}]


def _serve(port_queue: multiprocessing.Queue, latency_ms: float) -> None:  # type: ignore[type-arg]
    from promptyard.models import start_simulator

    handle = start_simulator(latency_ms=latency_ms)
    handle.keep_requests = False
    port_queue.put(handle.port)
    handle.serve_forever()


async def _gather(call_one: Callable[[int], Awaitable[bool]], calls: int, concurrency: int) -> int:
    sem = asyncio.Semaphore(concurrency)
    errors = 0

    async def one(i: int) -> None:
        nonlocal errors
        async with sem:
            if not await call_one(i):
                errors += 1

    await asyncio.gather(*(one(i) for i in range(calls)))
    return errors


def _timed(fn: Callable[[], int], calls: int) -> Result:
    started, cpu = time.perf_counter(), time.process_time()
    errors = fn()
    return time.perf_counter() - started, errors, (time.process_time() - cpu) * 1000 / calls


def run_sdk(url: str, calls: int, concurrency: int) -> int:
    from openai import AsyncOpenAI

    async def main() -> int:
        client = AsyncOpenAI(base_url=url, api_key="sim-key", max_retries=0, timeout=60)

        async def plain(i: int) -> bool:
            r = await client.chat.completions.create(
                model="sim-fast",
                messages=messages(i),  # type: ignore[arg-type]
                temperature=0.7,
                extra_headers={"X-Promptyard-Repeat": "0"},
            )
            return bool(r.choices[0].message.content)

        try:
            return await _gather(plain, calls, concurrency)
        finally:
            await client.close()

    return asyncio.run(main())


def run_complete(url: str, calls: int, concurrency: int, via_litellm: bool) -> int:
    from promptyard.models import ModelCall, ProviderKind, complete, simulated_endpoint

    endpoint = dataclasses.replace(simulated_endpoint("sim-fast"), api_base=url)
    if via_litellm:
        endpoint = dataclasses.replace(endpoint, provider_kind=ProviderKind.LITELLM.value)

    async def ours(i: int) -> bool:
        c = await complete(ModelCall(endpoint, messages(i), {"temperature": 0.7}))
        return c.ok

    return asyncio.run(_gather(ours, calls, concurrency))


def run_engine(ws: Any, plan: Any, concurrency: int) -> int:
    from promptyard import runs

    run_id = runs.create_run(ws, plan, concurrency=concurrency, use_cache=False)
    summary = runs.run_sync(ws, run_id)
    return int(summary.errors)


def bench(url: str, ws: Any, calls: int, concurrency: int, rounds: int) -> None:
    from promptyard.models import resolve_model
    from promptyard.prompts import parse_prompt
    from promptyard.runs import RowInput, VariantSpec, build_plan

    plan = build_plan(
        [
            VariantSpec(
                parse_prompt(TEMPLATE, "bench"), resolve_model(ws, "sim-fast"), {"temperature": 0.7}
            )
        ],
        [RowInput(f"r{i}", {"i": i}) for i in range(calls)],
    )
    warm = build_plan(
        [VariantSpec(parse_prompt(TEMPLATE, "bench"), resolve_model(ws, "sim-fast"))],
        [RowInput(f"w{i}", {"i": i}) for i in range(64)],
    )
    clients: dict[str, Callable[[], int]] = {
        "AsyncOpenAI (plain SDK)": lambda: run_sdk(url, calls, concurrency),
        "models.complete (lean path)": lambda: run_complete(url, calls, concurrency, False),
        "models.complete, provider: litellm (litellm.acompletion)": lambda: run_complete(
            url, calls, concurrency, True
        ),
        "runs.run_sync (cache off, cells stored)": lambda: run_engine(ws, plan, concurrency),
    }
    # warm every path (imports, connection pools, tokenizers, the database)
    run_sdk(url, 64, concurrency)
    run_complete(url, 64, concurrency, False)
    run_complete(url, 64, concurrency, True)
    run_engine(ws, warm, concurrency)
    results: dict[str, list[Result]] = {name: [] for name in clients}
    for _ in range(rounds):
        for name, fn in clients.items():
            results[name].append(_timed(fn, calls))
    ideal = calls / concurrency * 0.05
    print(
        f"\n{calls} calls, concurrency {concurrency}, simulator at 50 ms in its own process, "
        f"{rounds} alternating round(s); ideal wall {ideal:.2f} s; "
        f"load average {os.getloadavg()[0]:.1f}\n"
    )
    print(
        "| client | wall s (median) | calls/s | client CPU ms/call (median) | errors "
        "| throughput ratio | CPU ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    base = results["AsyncOpenAI (plain SDK)"]
    base_wall = statistics.median(w for w, _, _ in base)
    base_cpu = statistics.median(c for _, _, c in base)
    for name, runs in results.items():
        wall = statistics.median(w for w, _, _ in runs)
        cpu = statistics.median(c for _, _, c in runs)
        errs = sum(e for _, e, _ in runs)
        print(
            f"| {name} | {wall:.2f} | {calls / wall:.0f} | {cpu:.2f} | {errs} | "
            f"{base_wall / wall:.2f} | {base_cpu / cpu:.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    configure_offline_defaults()
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    server = ctx.Process(target=_serve, args=(queue, args.latency_ms), daemon=True)
    server.start()
    try:
        port = queue.get(timeout=60)
        url = f"http://127.0.0.1:{port}/v1"
        os.environ["PROMPTYARD_SIMULATOR_URL"] = url  # the engine's simulator models use it
        from promptyard.versioning.init import init_workspace

        with tempfile.TemporaryDirectory() as tmp:
            ws = init_workspace(Path(tmp) / "ws")
            bench(url, ws, args.calls, args.concurrency, args.rounds)
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    main()
