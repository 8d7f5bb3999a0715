"""Per-call overhead of `providers.complete` (litellm) against the plain `openai` SDK.

The simulator runs in its own process at 50 ms latency; both clients make the same
2,000 chat calls at concurrency 32, in the same run, alternating rounds. Prints a table
with calls per second and the ratio (target: >= 0.8).

    PYTHONPATH=src .venv/bin/python benchmarks/bench_overhead.py [--calls 2000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import multiprocessing
import os
import statistics
import time

from promptyard._env import configure_offline_defaults

MESSAGES = [
    {"role": "system", "content": "Summarize the support ticket in one sentence."},
    {
        "role": "user",
        "content": "My order #1234 arrived with a cracked screen. I want a replacement, "
        "not a refund, and I need it before Friday because it is a birthday present.",
    },
]


def _serve(port_queue: multiprocessing.Queue, latency_ms: float) -> None:  # type: ignore[type-arg]
    from promptyard.simulator import start_simulator

    handle = start_simulator(latency_ms=latency_ms)
    handle.keep_requests = False
    port_queue.put(handle.port)
    handle.serve_forever()


async def _run(call_one, calls: int, concurrency: int) -> tuple[float, int, float]:  # type: ignore[no-untyped-def]
    """Wall seconds, errors, and this process's CPU ms per call."""
    sem = asyncio.Semaphore(concurrency)
    errors = 0

    async def one(i: int) -> None:
        nonlocal errors
        async with sem:
            if not await call_one(i):
                errors += 1

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(i) for i in range(calls)))
    return time.perf_counter() - started, errors, (time.process_time() - cpu) * 1000 / calls


async def bench(url: str, calls: int, concurrency: int, rounds: int) -> None:
    from openai import AsyncOpenAI

    from promptyard.models import simulated_endpoint
    from promptyard.providers import ModelCall, complete

    client = AsyncOpenAI(base_url=url, api_key="sim-key", max_retries=0, timeout=60)
    endpoint = dataclasses.replace(simulated_endpoint("sim-fast"), api_base=url)

    async def plain(i: int) -> bool:
        r = await client.chat.completions.create(
            model="sim-fast",
            messages=MESSAGES,  # type: ignore[arg-type]
            temperature=0.7,
            extra_headers={"X-Promptyard-Repeat": str(i)},
        )
        return bool(r.choices[0].message.content)

    async def ours(i: int) -> bool:
        c = await complete(ModelCall(endpoint, MESSAGES, {"temperature": 0.7}, repeat=i))
        return c.ok

    # warm both paths (imports, connection pools, tokenizers)
    await _run(plain, 64, concurrency)
    await _run(ours, 64, concurrency)
    results: dict[str, list[tuple[float, int, float]]] = {
        "AsyncOpenAI": [],
        "providers.complete": [],
    }
    for _ in range(rounds):
        results["AsyncOpenAI"].append(await _run(plain, calls, concurrency))
        results["providers.complete"].append(await _run(ours, calls, concurrency))
    ideal = calls / concurrency * 0.05
    print(
        f"\n{calls} calls, concurrency {concurrency}, simulator at 50 ms in its own process, "
        f"{rounds} alternating round(s); ideal wall {ideal:.2f} s; load average {os.getloadavg()[0]:.1f}\n"
    )
    print(
        "| client | wall s (median) | calls/s | client CPU ms/call (median) | errors | throughput ratio | CPU ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    base_wall = statistics.median(w for w, _, _ in results["AsyncOpenAI"])
    base_cpu = statistics.median(c for _, _, c in results["AsyncOpenAI"])
    for name, runs in results.items():
        wall = statistics.median(w for w, _, _ in runs)
        cpu = statistics.median(c for _, _, c in runs)
        errs = sum(e for _, e, _ in runs)
        print(
            f"| {name} | {wall:.2f} | {calls / wall:.0f} | {cpu:.2f} | {errs} | "
            f"{base_wall / wall:.2f} | {base_cpu / cpu:.2f} |"
        )
    await client.close()


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
        asyncio.run(bench(f"http://127.0.0.1:{port}/v1", args.calls, args.concurrency, args.rounds))
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    main()
