"""How many requests per second the simulator answers, per kind of request.

The simulator runs in its own process at 0 ms latency; one `httpx.AsyncClient` sends
`--calls` requests of each kind at concurrency `--concurrency`: a plain chat, `n=4`, a
tool call (auto, two tools), a streamed chat with usage, `logprobs` with 5 alternatives,
a batch of 16 embeddings at 1,536 dimensions, and a legacy completion. Prints a table
(requests/s, median ms per request).

    PYTHONPATH=src .venv/bin/python benchmarks/bench_simulator.py [--calls 400] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import time
from typing import Any

TICKET = "My order #{i} arrived with a cracked screen; I want a replacement before Friday."
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    },
}
ORDER = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Look up an order by its number",
        "parameters": {"type": "object", "properties": {"order": {"type": "string"}}},
    },
}


def _chat(i: int, **extra: Any) -> tuple[str, dict[str, Any]]:
    messages = [{"role": "user", "content": TICKET.format(i=i)}]
    return "/chat/completions", {"model": "sim-fast", "messages": messages, **extra}


KINDS: dict[str, Any] = {
    "chat": lambda i: _chat(i),
    "chat n=4": lambda i: _chat(i, n=4),
    "tool call (auto, 2 tools)": lambda i: _chat(i, tools=[WEATHER, ORDER]),
    "stream + usage": lambda i: _chat(i, stream=True, stream_options={"include_usage": True}),
    "logprobs top 5": lambda i: _chat(i, logprobs=True, top_logprobs=5),
    "embeddings 16 x 1536": lambda i: (
        "/embeddings",
        {
            "model": "sim-fast",
            "input": [TICKET.format(i=i + k) for k in range(16)],
            "dimensions": 1536,
            "encoding_format": "float",
        },
    ),
    "legacy completion": lambda i: (
        "/completions",
        {"model": "sim-fast", "prompt": TICKET.format(i=i), "max_tokens": 32},
    ),
}


def _serve(port: Any) -> None:
    from promptyard.models import start_simulator

    handle = start_simulator(port=0)
    handle.keep_requests = False
    port.value = handle.port
    handle.serve_forever()


async def _measure(url: str, make: Any, calls: int, concurrency: int) -> tuple[float, float, int]:
    import httpx

    gate = asyncio.Semaphore(concurrency)
    times: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def one(i: int) -> None:
            nonlocal errors
            path, body = make(i)
            async with gate:
                t = time.perf_counter()
                r = await client.post(path, json=body)
                await r.aread()
                times.append((time.perf_counter() - t) * 1000)
                errors += r.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(calls)))
        wall = time.perf_counter() - started
    return calls / wall, statistics.median(times), errors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    port = multiprocessing.Value("i", 0)
    server = multiprocessing.Process(target=_serve, args=(port,), daemon=True)
    server.start()
    while not port.value:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port.value}/v1"
    try:
        asyncio.run(_measure(url, KINDS["chat"], 50, args.concurrency))  # warm-up
        print("| request | requests/s | median ms | errors |")
        print("|---|---:|---:|---:|")
        for name, make in KINDS.items():
            rate, median, errors = asyncio.run(_measure(url, make, args.calls, args.concurrency))
            print(f"| {name} | {rate:,.0f} | {median:.1f} | {errors} |")
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    main()
