"""A fixed-latency OpenAI-compatible chat server for the latency benchmark and tests.

`python benchmarks/latency_server.py LATENCY_MS` prints its base url on the first line and
serves `POST /v1/chat/completions` (plain or streamed) until stdin closes. Each answer is
held for exactly LATENCY_MS after its request has been read (a streamed answer sends its
first token then, and finishes at once). Raw asyncio HTTP/1.1 with keep-alive, so the
server spends microseconds per call and stays far from saturation at the benchmark's
concurrencies. `GET /stats` returns the server's own measure of each answer: from the
request read to the answer written, in ms, in arrival order. `GET /stats/wire` measures
from the request's arrival in the kernel instead (Linux `TCP_INFO`, in the kernel's clock
ticks), so it also counts the time the request waited for this process to run: on a
loaded machine, the figure a client's wire time can be held to.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import struct
import sys
import time

ANSWER = "Fixed latency answer."


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
            "usage": {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14},
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
        body["usage"] = {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def _received_ms_ago(writer: asyncio.StreamWriter) -> float:
    """How long ago the kernel last received data on this connection (0 off Linux)."""
    option = getattr(socket, "TCP_INFO", None)
    sock = writer.get_extra_info("socket")
    if option is None or sock is None or not sys.platform.startswith("linux"):
        return 0.0
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, option, 104)
        return float(struct.unpack_from("=I", info, 52)[0])
    except (OSError, struct.error):
        return 0.0


class FixedLatencyServer:
    def __init__(self, latency_ms: float) -> None:
        self.latency_s = latency_ms / 1000
        self.served_ms: list[float] = []
        self.wire_ms: list[float] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                length = 0
                for line in lines[1:]:
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                body = await reader.readexactly(length) if length else b""
                read_at = time.perf_counter()
                arrived_at = read_at - _received_ms_ago(writer) / 1000
                if method == "GET" and path.startswith("/stats"):
                    stats = self.wire_ms if path.startswith("/stats/wire") else self.served_ms
                    self._respond(writer, json.dumps(stats).encode())
                    continue
                request = json.loads(body or b"{}")
                model = str(request.get("model", "fixed"))
                await asyncio.sleep(max(0.0, self.latency_s - (time.perf_counter() - read_at)))
                if request.get("stream"):
                    writer.write(
                        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                        b"transfer-encoding: chunked\r\n\r\n"
                    )
                    for part in (
                        _chunk(model, {"role": "assistant", "content": ANSWER}, None),
                        _chunk(model, {}, "stop"),
                        _chunk(model, {}, None, usage=True),
                        b"data: [DONE]\n\n",
                    ):
                        writer.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                    writer.write(b"0\r\n\r\n")
                else:
                    self._respond(writer, _completion(model))
                written_at = time.perf_counter()
                self.served_ms.append((written_at - read_at) * 1000)
                self.wire_ms.append((written_at - arrived_at) * 1000)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @staticmethod
    def _respond(writer: asyncio.StreamWriter, payload: bytes) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            + f"content-length: {len(payload)}\r\n\r\n".encode()
            + payload
        )


async def serve(latency_ms: float) -> None:
    server = FixedLatencyServer(latency_ms)
    srv = await asyncio.start_server(server.handle, "127.0.0.1", 0, backlog=1024)
    port = srv.sockets[0].getsockname()[1]
    print(f"http://127.0.0.1:{port}/v1", flush=True)
    loop = asyncio.get_running_loop()
    # stop when the parent closes our stdin (or dies)
    await loop.run_in_executor(None, sys.stdin.read)
    os._exit(0)  # no tidy shutdown: the benchmark is over


if __name__ == "__main__":
    asyncio.run(serve(float(sys.argv[1])))
