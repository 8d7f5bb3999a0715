"""The lean path's two HTTP clients side by side: client CPU per call of its own
`http_streams.StreamSession` and of aiohttp's `ClientSession` (as `http_pool` builds it),
each in a fresh process, interleaved and repeated, against `latency_server.py` (its own
process). Each call is what the lean path sends and reads: an orjson body POSTed to
`/chat/completions` with the call's timing stamped, the answer read and parsed.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_http_client.py [--calls 10000]
        [--concurrency 128] [--latency 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
KINDS = ("StreamSession", "aiohttp")
WARM_CALLS = 200  # connections opened and code warm before the clock starts


async def _calls(kind: str, url: str, calls: int, concurrency: int) -> tuple[float, float]:
    import orjson

    from promptyard.models.providers.http_pool import (
        SESSION_HEADERS,
        _connector_class,
        stamp_sent,
        start_timing,
    )
    from promptyard.models.providers.http_streams import StreamSession

    session: Any
    if kind == "StreamSession":
        session = StreamSession(url.rsplit("/v1", 1)[0], SESSION_HEADERS, stamp_sent)
    else:
        import aiohttp

        session = aiohttp.ClientSession(
            connector=_connector_class()(limit=1024, limit_per_host=0),
            timeout=aiohttp.ClientTimeout(total=None),
            trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            headers=SESSION_HEADERS,
        )
    body = orjson.dumps({"model": "fixed", "messages": [{"role": "user", "content": "Hi"}]})
    headers = {"Content-Type": "application/json", "Authorization": "Bearer no-key"}
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            start_timing()
            async with session.post(
                f"{url}/chat/completions", data=body, headers=headers, proxy=None, params=None
            ) as response:
                answer = orjson.loads(await response.read())
                assert response.status == 200 and answer["choices"], answer

    await asyncio.gather(*(one() for _ in range(WARM_CALLS)))
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one() for _ in range(calls)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await session.close()
    return cpu / calls * 1e6, calls / wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--latency", type=float, default=50, help="the server's, in ms")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    import latency_server

    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "src")}
    seen: dict[str, list[tuple[float, float]]] = {kind: [] for kind in KINDS}
    with latency_server.running([args.latency]) as servers:
        url = servers[args.latency]
        for r in range(args.rounds):
            for kind in KINDS[r % 2 :] + KINDS[: r % 2]:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", kind, url, str(args.calls)]
                    + [str(args.concurrency)],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                us, rate = (float(x) for x in out.stdout.split())
                seen[kind].append((us, rate))
                print(f"  round {r + 1}: {kind}: {us:.0f} µs CPU/call, {rate:,.0f} calls/s")
    print()
    print(
        f"{args.calls:,} calls at c={args.concurrency}, {args.latency:g} ms server, "
        f"median of {args.rounds} round(s)"
    )
    print()
    print("| client | client CPU µs/call | calls/s |")
    print("|---|---:|---:|")
    for kind in KINDS:
        us = statistics.median(s[0] for s in seen[kind])
        rate = statistics.median(s[1] for s in seen[kind])
        print(f"| {kind} | {us:.0f} | {rate:,.0f} |")


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        result = asyncio.run(_calls(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])))
        print(*result)
    else:
        main()
