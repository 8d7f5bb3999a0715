"""The benchmarks' fixed-latency OpenAI-compatible chat server (and the tests').

`python benchmarks/latency_server.py LATENCY_MS` prints its base url on the first line and
serves until stdin closes; `start`/`running` do that from a parent. An aiohttp app of the
benchmarks' own, not the product's simulator: it does nothing but wait, so it spends
well under a tenth of a millisecond of CPU per call and is never the bottleneck (a bare
client shows its ceiling). It serves:

- `POST /v1/chat/completions`, plain or streamed: each answer is held for exactly
  LATENCY_MS after its request has been read (a streamed answer sends its first token
  then, and finishes at once).
- `GET /stats`: the server's own measure of each answer, from the request read to the
  answer written, in ms, in arrival order. `GET /stats/wire` measures from the request's
  arrival in the kernel instead (Linux `TCP_INFO`, in the kernel's clock ticks), so it also
  counts the time the request waited for this process to run: on a loaded machine, the
  figure a client's wire time can be held to.
- `GET /stats/calls`: the calls that arrived (`count`, the wall-clock `first` and `last`
  arrival, `time.time()`) and the server's own CPU seconds (`cpu`), since `POST /reset`
  (which also empties the lists above) or the start.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

# aiohttp is imported in the server's process only: a benchmark that imports this module
# for `running` keeps its own memory small, and so do the children it starts (a child's
# peak RSS, as wait4 reports it, starts from its parent's at the fork).

ANSWER = "A fixed latency answer."
USAGE = {"prompt_tokens": 24, "completion_tokens": 6, "total_tokens": 30}


@cache
def _completion(model: str) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-fixed",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": ANSWER},
                    "finish_reason": "stop",
                }
            ],
            "usage": USAGE,
        }
    ).encode()


def _chunk(model: str, delta: dict[str, str], finish: str | None, usage: bool = False) -> bytes:
    body: dict[str, object] = {
        "id": "chatcmpl-fixed",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage:
        body["choices"] = []
        body["usage"] = USAGE
    return b"data: " + json.dumps(body).encode() + b"\n\n"


@cache
def _stream(model: str) -> tuple[bytes, ...]:
    return (
        _chunk(model, {"role": "assistant", "content": ANSWER}, None),
        _chunk(model, {}, "stop"),
        _chunk(model, {}, None, usage=True),
        b"data: [DONE]\n\n",
    )


def _received_ms_ago(sock: Any) -> float:
    """How long ago the kernel last received data on this connection (0 off Linux)."""
    option = getattr(socket, "TCP_INFO", None)
    if option is None or sock is None or not sys.platform.startswith("linux"):
        return 0.0
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, option, 104)
        return float(struct.unpack_from("=I", info, 52)[0])
    except (OSError, struct.error):
        return 0.0


def _cpu_now() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Measures:
    """What the server saw: each answer's time, and the calls since the last reset."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.served_ms: list[float] = []
        self.wire_ms: list[float] = []
        self.calls: dict[str, float] = {"count": 0, "first": 0.0, "last": 0.0}
        self.cpu_at_reset = _cpu_now()

    def arrived(self) -> None:
        now = time.time()
        if not self.calls["count"]:
            self.calls["first"] = now
        self.calls["count"] += 1
        self.calls["last"] = now

    def seen(self) -> dict[str, float]:
        # The server's own CPU since the reset: with the client's, how many of the
        # machine's cores a contender kept busy.
        return {**self.calls, "cpu": _cpu_now() - self.cpu_at_reset}


async def serve(latency_ms: float) -> None:
    """Print the base url, answer until stdin closes."""
    from aiohttp import web

    latency_s = latency_ms / 1000
    measures = Measures()

    async def chat(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        read_at = time.perf_counter()
        transport = request.transport
        sock = transport.get_extra_info("socket") if transport is not None else None
        arrived_at = read_at - _received_ms_ago(sock) / 1000
        measures.arrived()
        asked = json.loads(body or b"{}")
        model = str(asked.get("model", "fixed"))
        await asyncio.sleep(max(0.0, latency_s - (time.perf_counter() - read_at)))
        response: web.StreamResponse
        if asked.get("stream"):
            response = web.StreamResponse(headers={"content-type": "text/event-stream"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            for part in _stream(model):
                await response.write(part)
        else:
            response = web.Response(body=_completion(model), content_type="application/json")
            await response.prepare(request)
        await response.write_eof()  # written here, so the time below includes the writing
        written_at = time.perf_counter()
        measures.served_ms.append((written_at - read_at) * 1000)
        measures.wire_ms.append((written_at - arrived_at) * 1000)
        return response

    async def stats(request: web.Request) -> web.Response:
        which = request.match_info["which"]
        if which == "/wire":
            return web.json_response(measures.wire_ms)
        return web.json_response(measures.seen() if which == "/calls" else measures.served_ms)

    async def reset(request: web.Request) -> web.Response:
        measures.reset()
        return web.json_response(measures.calls)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/stats{which:(|/wire|/calls)}", stats)
    app.router.add_post("/reset", reset)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
    await site.start()
    port = runner.addresses[0][1]
    print(f"http://127.0.0.1:{port}/v1", flush=True)
    # stop when the parent closes our stdin (or dies)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    os._exit(0)  # no tidy shutdown: the benchmark is over


# --- for the benchmarks that start it --------------------------------------------------


def start(latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    """A server in its own process (never the caller's GIL) and its base url
    (http://127.0.0.1:PORT/v1); it stops when its stdin is closed."""
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), f"{latency_ms:g}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        proc.kill()
        raise SystemExit(f"latency_server.py {latency_ms:g} did not start (said {url!r})")
    return proc, url


@contextmanager
def running(latencies: Iterable[float]) -> Iterator[dict[float, str]]:
    """One server per latency (ms) while the block runs: latency -> base url."""
    servers: dict[float, tuple[subprocess.Popen[str], str]] = {}
    try:
        for latency in latencies:
            servers[latency] = start(latency)
        yield {latency: url for latency, (_, url) in servers.items()}
    finally:
        for proc, _ in servers.values():
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(timeout=10)


def models_yaml(urls: Mapping[float, str], input_cost: str, output_cost: str) -> str:
    """A models.yaml with one model per server, `fixed<MS>` (e.g. fixed50), at these
    per-token prices (written as given: YAML reads `1e-06` as text)."""
    entries = "".join(
        f"  fixed{latency:g}:\n    model: openai/fixed\n    api_base: {url}\n"
        f"    input_cost_per_token: {input_cost}\n    output_cost_per_token: {output_cost}\n"
        for latency, url in urls.items()
    )
    return "models:\n" + entries


if __name__ == "__main__":
    asyncio.run(serve(float(sys.argv[1])))
