"""The lean path's own HTTP client (`http_streams.StreamSession`, no aiohttp) against real
servers, with an aiohttp session as the oracle: every answer, error answer and broken
answer reads as the same Completion either way."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import os
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest

from promptyard.models import (
    Completion,
    ModelCall,
    ModelEndpoint,
    SimulatorHandle,
    complete,
    simulated_endpoint,
    start_simulator,
)
from promptyard.models.providers.http_pool import env_proxy, session_for, use_aiohttp_sessions
from tests.test_providers_lean import MESSAGES


def facts(c: Completion) -> dict[str, Any]:
    """What a user sees of a call, but its timing; a failed connection's text quotes the
    client's own exception, so only its kind is compared."""
    seen = dataclasses.asdict(c)
    for timing in ("latency_ms", "ttft_ms"):
        seen.pop(timing)
    if c.error_kind == "connection" or "APIConnectionError" in (c.error_message or ""):
        seen.pop("error_message")
    if seen["raw"]:  # the simulator's answer id is new each time
        seen["raw"] = {k: v for k, v in seen["raw"].items() if k not in ("id", "created")}
    return seen


async def through_aiohttp(call: ModelCall) -> Completion:
    """The oracle: `call` through an aiohttp session."""
    use_aiohttp_sessions()
    return await complete(call)


def both(call: Callable[[], ModelCall]) -> tuple[Completion, Completion, list[str]]:
    """The call through aiohttp, then through a StreamSession; and the kinds of session
    the second loop used (to show it was not aiohttp's)."""

    async def through_streams() -> tuple[Completion, list[str]]:
        made = call()
        result = await complete(made)
        session, _proxy = await session_for(str(made.endpoint.api_base).rstrip("/"))
        return result, [type(session).__name__]

    oracle = asyncio.run(through_aiohttp(call()))
    result, kinds = asyncio.run(through_streams())
    return oracle, result, kinds


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorHandle]:
    with start_simulator(latency_ms=5) as handle:
        yield handle


@pytest.fixture(autouse=True)
def _clean(request: pytest.FixtureRequest) -> None:
    if "sim" in request.fixturenames:
        handle = request.getfixturevalue("sim")
        handle.faults.clear()
        handle.reset_counts()


def sim_call(sim: SimulatorHandle, stream: bool = False, **changes: Any) -> Callable[[], ModelCall]:
    endpoint = dataclasses.replace(simulated_endpoint("sim-fast"), api_base=sim.url, **changes)
    return lambda: ModelCall(endpoint, MESSAGES, {"temperature": 0.5}, stream=stream, timeout_s=5)


FAULTS: list[tuple[str, dict[str, Any]]] = [
    ("an answer", {}),
    ("a rate limit with Retry-After", {"rate_limit": True, "retry_after_s": 2.5}),
    ("a server error", {"server_error": 503}),
    ("malformed JSON", {"malformed_json": True}),
    ("a bad key", {"auth": True}),
    ("a bad request", {"bad_request": True}),
    ("a context window error", {"context_window": True}),
    ("a filtered answer", {"content_filter": True}),
]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize(("label", "faults"), FAULTS, ids=[f[0] for f in FAULTS])
def test_every_answer_of_the_simulator_reads_as_through_aiohttp(
    sim: SimulatorHandle, label: str, faults: dict[str, Any], stream: bool
) -> None:
    for name, value in faults.items():
        setattr(sim.faults, name, value)
    oracle, result, kinds = both(sim_call(sim, stream=stream))
    assert kinds == ["StreamSession"]
    assert facts(result) == facts(oracle), label
    if not faults:
        assert result.ok and result.text and result.prompt_tokens and result.cost_usd
        assert result.latency_ms >= 5  # the simulator's own latency, at least
    if stream and not faults:
        assert result.ttft_ms is not None and 0 < result.ttft_ms <= result.latency_ms


def test_a_truncated_stream_keeps_its_partial_text_as_through_aiohttp(
    sim: SimulatorHandle,
) -> None:
    sim.faults.truncated_stream = True
    oracle, result, _ = both(sim_call(sim, stream=True))
    assert result.error_kind == "invalid_response" and result.text
    assert facts(result) == facts(oracle)


def test_a_hung_server_times_out_and_nothing_listening_is_a_connection_error(
    sim: SimulatorHandle,
) -> None:
    sim.faults.hang = True
    endpoint = dataclasses.replace(simulated_endpoint("sim-fast"), api_base=sim.url)
    oracle, result, _ = both(lambda: ModelCall(endpoint, MESSAGES, {}, timeout_s=0.3))
    assert result.error_kind == oracle.error_kind == "timeout" and result.retryable
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    closed = dataclasses.replace(endpoint, api_base=f"http://127.0.0.1:{port}/v1")
    oracle, result, _ = both(lambda: ModelCall(closed, MESSAGES, {}, timeout_s=5))
    assert result.error_kind == oracle.error_kind == "connection" and result.retryable


# --- answers written byte by byte -----------------------------------------------------------

ANSWER = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "canned",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Late, crushed box."},
         "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 21, "completion_tokens": 5, "total_tokens": 26},
}  # fmt: skip
BODY = orjson.dumps(ANSWER)


def _chunked(body: bytes, size: int = 7) -> bytes:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    out = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(p), p) for p in pieces)
    return out + b"0\r\nX-Trailer: yes\r\n\r\n"


def _answer(head: str, body: bytes) -> bytes:
    return head.replace("\n", "\r\n").encode() + b"\r\n" + body


CANNED: dict[str, bytes] = {
    "Content-Length": _answer(
        f"HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: {len(BODY)}\n", BODY
    ),
    "chunked, with extensions and trailers": _answer(
        "HTTP/1.1 200 OK\nContent-Type: application/json\nTransfer-Encoding: chunked\n",
        _chunked(BODY),
    ),
    "ended by the connection closing": _answer(
        "HTTP/1.0 200 OK\nContent-Type: application/json\n", BODY
    ),
    "gzip-encoded": _answer(
        "HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Encoding: gzip\n"
        f"Content-Length: {len(gzip.compress(BODY))}\n",
        gzip.compress(BODY),
    ),
    "a 100 Continue first, a folded header": _answer(
        "HTTP/1.1 100 Continue\n\nHTTP/1.1 200 OK\nContent-Type: application/json\n"
        f"X-Note: one\n  two\nContent-Length: {len(BODY)}\n",
        BODY,
    ),
    "a 429 with Retry-After": _answer(
        "HTTP/1.1 429 Too Many Requests\nContent-Type: application/json\nretry-after: 7\n"
        "Content-Length: 44\n",
        b'{"error": {"message": "slow down, please."}}',
    ),
    "a body cut short": _answer(
        f"HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: {len(BODY) + 50}\n"
        "Connection: close\n",
        BODY,
    ),
    "a status line that is not HTTP": b"SPDY/3 200 OK\r\n\r\n",
    "a Content-Length that is not a number": _answer(
        "HTTP/1.1 200 OK\nContent-Length: many\n", BODY
    ),
}


class CannedServer:
    """A TCP server on 127.0.0.1 that reads each request (head and Content-Length body) and
    writes `answer` back, closing the connection after it when the answer says so (or has
    no length); it counts requests and connections."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.requests: list[bytes] = []
        self.connections = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            buffer = b""
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + buffer[:length])
                buffer = buffer[length:]
                conn.sendall(self.answer)
                head_text = self.answer.split(b"\r\n\r\n", 1)[0].lower()
                if b"connection: close" in head_text or b"http/1.0" in head_text:
                    return

    def close(self) -> None:
        self._sock.close()


def canned_call(url: str, **parameters: Any) -> Callable[[], ModelCall]:
    endpoint = ModelEndpoint("canned", "openai/canned", api_base=url)
    return lambda: ModelCall(endpoint, MESSAGES, parameters, timeout_s=5)


@pytest.mark.parametrize("label", list(CANNED))
def test_each_way_an_answer_can_be_framed_reads_as_through_aiohttp(label: str) -> None:
    server = CannedServer(CANNED[label])
    try:
        oracle, result, kinds = both(canned_call(server.url))
    finally:
        server.close()
    assert kinds == ["StreamSession"]
    assert facts(result) == facts(oracle), label
    if label.startswith(("Content-Length", "chunked", "ended", "gzip", "a 100")):
        assert result.ok and result.text == "Late, crushed box." and result.prompt_tokens == 21
    elif "429" in label:
        assert result.error_kind == "rate_limit" and result.retry_after_s == 7
    elif "cut short" in label:
        assert result.error_kind == "invalid_response" and result.retryable
    else:
        assert result.error_kind == "connection" and result.retryable
    assert len(server.requests) == 2  # one each: nothing was sent twice


def test_the_request_is_the_one_aiohttp_sends_and_a_connection_carries_many() -> None:
    server = CannedServer(CANNED["Content-Length"])
    call = canned_call(server.url, temperature=0.2, extra_query={"api-version": "2024-10"})

    async def three() -> list[Completion]:
        return [await complete(call()) for _ in range(3)]

    try:
        oracle = asyncio.run(through_aiohttp(call()))
        assert oracle.ok
        results = asyncio.run(three())
    finally:
        server.close()
    assert all(facts(r) == facts(oracle) for r in results)
    assert server.connections == 2  # aiohttp's, then one for all three calls
    sent = [_request_parts(r) for r in server.requests]
    assert sent[1] == sent[2] == sent[3]
    line, headers, body = sent[1]
    oracle_line, oracle_headers, oracle_body = sent[0]
    assert line == oracle_line == "POST /v1/chat/completions?api-version=2024-10 HTTP/1.1"
    assert orjson.loads(body) == orjson.loads(oracle_body)
    assert orjson.loads(body)["temperature"] == 0.2
    # aiohttp adds what it always adds (compression it would undo); the rest is the same
    extra = {"accept-encoding"}
    assert {k: v for k, v in oracle_headers.items() if k not in extra} == headers


def _request_parts(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    line, *fields = head.decode().split("\r\n")
    pairs = (f.split(":", 1) for f in fields)
    return line, {k.strip().lower(): v.strip() for k, v in pairs}, body


def test_a_connection_the_server_closes_is_not_used_again() -> None:
    closing = CannedServer(
        _answer(
            "HTTP/1.1 200 OK\nContent-Type: application/json\nConnection: close\n"
            f"Content-Length: {len(BODY)}\n",
            BODY,
        )
    )

    async def two() -> list[Completion]:
        return [await complete(canned_call(closing.url)()) for _ in range(2)]

    try:
        results = asyncio.run(two())
    finally:
        closing.close()
    assert [r.ok for r in results] == [True, True]
    assert closing.connections == 2 and len(closing.requests) == 2


def test_a_connection_idle_past_the_keep_alive_is_not_used_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Something between may drop an idle connection without a word (a NAT, a load
    balancer): one idle longer than aiohttp would keep it is closed, and a new one made."""
    from promptyard.models.providers import http_streams

    monkeypatch.setattr(http_streams, "KEEPALIVE_S", 0.3)
    server = CannedServer(CANNED["Content-Length"])

    async def calls() -> list[Completion]:
        first = await complete(canned_call(server.url)())
        soon = await complete(canned_call(server.url)())
        await asyncio.sleep(0.5)
        late = await complete(canned_call(server.url)())
        return [first, soon, late]

    try:
        results = asyncio.run(calls())
    finally:
        server.close()
    assert [r.ok for r in results] == [True, True, True]
    assert len(server.requests) == 3 and server.connections == 2


def test_a_header_with_a_newline_is_refused_before_anything_is_sent() -> None:
    server = CannedServer(CANNED["Content-Length"])
    call = canned_call(server.url, extra_headers={"X-Team": "ops\r\nX-Injected: yes"})
    try:
        oracle, result, _ = both(call)
    finally:
        server.close()
    assert not result.ok and result.error_kind == oracle.error_kind
    assert server.requests == []


def test_the_session_kind_follows_the_loop_and_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    async def kinds() -> list[str]:
        direct = (await session_for("http://127.0.0.1:8/v1"))[0]
        proxied = (await session_for("http://models.example:8/v1"))[0]
        with_credentials = (await session_for("http://user:pw@127.0.0.1:7/v1"))[0]
        use_aiohttp_sessions()
        asked = (await session_for("http://127.0.0.1:9/v1"))[0]
        return [type(s).__name__ for s in (direct, proxied, with_credentials, asked)]

    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert asyncio.run(kinds()) == [
        "StreamSession",
        "ClientSession",
        "ClientSession",
        "ClientSession",
    ]


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"https_proxy": "http://127.0.0.1:3128"},
        {"HTTP_PROXY": "http://127.0.0.1:3128"},
        {"HTTP_PROXY": "http://127.0.0.1:3128", "no_proxy": "models.example"},
    ],
    ids=["none", "https-lowercase", "http", "bypassed"],
)
def test_the_proxy_for_a_base_is_the_one_urllib_finds(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    import urllib.request

    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for base in ("http://models.example:8/v1", "https://models.example/v1"):
        scheme = base.split(":", 1)[0]
        bypass = urllib.request.proxy_bypass("models.example")
        expected = None if bypass else urllib.request.getproxies().get(scheme)
        assert env_proxy(base) == expected, base
