"""Latency on the wire: when a request was written and when its answer arrived.

The `openai` SDK's HTTP client gets a transport whose network I/O runs on one background
thread with its own event loop (`_IOLoop`), through aiohttp (the SDK's own alternative
backend; httpcore's pool spends milliseconds per request at a few hundred connections).
That loop does nothing but move bytes, so it notes, while the run's own loop is busy
parsing other answers:

- `sent_at`: the moment the request's headers start to be written on an open connection
  (aiohttp's `on_request_headers_sent` trace signal), so connecting, DNS, TLS, the SDK's
  first-call imports and building the client are not counted;
- each body chunk's arrival, handed to the SDK with its time: `last_chunk_at` is the
  arrival of the newest chunk the SDK has read (the chunk that held a streamed token),
  `done_at` the arrival of the last byte.

A call reads its `WireTiming` through a context variable (`timed()`): the SDK sends the
request from the calling task, so the transport finds the record of the call it serves.
The connection pool lives on the I/O loop, shared by every client of the process, and
stays warm from one run to the next.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import os
import threading
import time
from collections.abc import AsyncIterator, Coroutine
from contextvars import ContextVar
from dataclasses import dataclass
from types import ModuleType
from typing import Any

# Connections the I/O loop keeps open at most (per host: the engine's highest concurrency).
MAX_CONNECTIONS = 1024
PER_HOST = 512


@dataclass
class WireTiming:
    """`time.perf_counter()` stamps of one call's request and answer on the wire."""

    sent_at: float | None = None
    headers_at: float | None = None
    last_chunk_at: float | None = None
    done_at: float | None = None

    def since_sent_ms(self, at: float | None) -> float | None:
        """Milliseconds from writing the request to `at` (None when either is unknown)."""
        if self.sent_at is None or at is None:
            return None
        return max(0.0, (at - self.sent_at) * 1000)

    @property
    def latency_ms(self) -> float | None:
        """Request written to the last byte of the answer, in ms (None: not measured)."""
        return self.since_sent_ms(self.done_at or self.last_chunk_at or self.headers_at)


_timing: ContextVar[WireTiming | None] = ContextVar("promptyard_wire_timing", default=None)


def timed() -> WireTiming:
    """A fresh `WireTiming` that requests sent from the current task fill in."""
    timing = WireTiming()
    _timing.set(timing)
    return timing


class _IOLoop:
    """One daemon thread running an event loop that only moves bytes (per process)."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self._session: Any = None
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.call_soon(ready.set)
            self.loop.run_forever()

        self.thread = threading.Thread(target=serve, name="promptyard-http-io", daemon=True)
        self.thread.start()
        ready.wait()
        # aiohttp imported and the session built now, not on the loop while calls wait
        asyncio.run_coroutine_threadsafe(self._open(), self.loop).result()

    async def _open(self) -> None:
        self.session()

    def submit(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def session(self) -> Any:
        """The aiohttp session of the I/O loop; called on the I/O loop only."""
        if self._session is None:
            import aiohttp

            async def headers_sent(_session: Any, ctx: Any, _params: Any) -> None:
                timing = ctx.trace_request_ctx
                if isinstance(timing, WireTiming):
                    timing.sent_at = time.perf_counter()

            trace = aiohttp.TraceConfig()
            trace.on_request_headers_sent.append(headers_sent)
            connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, limit_per_host=PER_HOST)
            if hasattr(connector, "_factory"):
                # Stamp bytes as the socket hands them over, before any task of this loop
                # runs: a burst of answers is stamped as it came, not as it was parsed.
                connector._factory = functools.partial(_stamping_handler(), loop=self.loop)
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,  # the SDK's client decodes, as it would its own bytes
                trust_env=True,  # proxies and certificates from the environment, as httpx does
                trace_configs=[trace],
                timeout=aiohttp.ClientTimeout(total=None),
            )
        return self._session


@functools.cache
def _stamping_handler() -> type:
    """aiohttp's connection protocol, noting when data last arrived (`data_at`)."""
    from aiohttp.client_proto import ResponseHandler

    class StampingHandler(ResponseHandler):  # type: ignore[misc]
        data_at: float | None = None

        def data_received(self, data: bytes) -> None:
            self.data_at = time.perf_counter()
            super().data_received(data)

    return StampingHandler


def _arrival(response: Any) -> float:
    """When the newest bytes of `response` arrived (now, if the protocol does not say)."""
    stamp = getattr(getattr(response, "_protocol", None), "data_at", None)
    return stamp if isinstance(stamp, float) else time.perf_counter()


_io: _IOLoop | None = None
_io_lock = threading.Lock()


def io_loop() -> _IOLoop:
    """The process's I/O loop, started on first use (and again in a forked child)."""
    global _io
    with _io_lock:
        if _io is None or _io.pid != os.getpid() or not _io.thread.is_alive():
            _io = _IOLoop()
        return _io


def timed_transport(httpx: ModuleType) -> Any:
    """An async transport of the `httpx` module the SDK is built on (httpx or a fork of
    it) that sends on the I/O loop and stamps each request's `WireTiming`."""

    class QueueStream(httpx.AsyncByteStream):  # type: ignore[misc, name-defined]
        """The body as the I/O loop received it, chunk by chunk, with arrival times."""

        def __init__(self, queue: asyncio.Queue[Any], timing: WireTiming, io: _IOLoop) -> None:
            self.queue, self.timing, self.io = queue, timing, io
            self.reader: asyncio.Task[None] | None = None

        async def __aiter__(self) -> AsyncIterator[bytes]:
            while True:
                kind, at, value = await self.queue.get()
                if kind == "chunk":
                    self.timing.last_chunk_at = at
                    yield value
                elif kind == "end":
                    self.timing.done_at = at
                    return
                else:
                    raise value

        async def aclose(self) -> None:
            reader = self.reader
            if reader is not None and not reader.done():
                self.io.loop.call_soon_threadsafe(reader.cancel)

    class TimedTransport(httpx.AsyncBaseTransport):  # type: ignore[misc, name-defined]
        async def handle_async_request(self, request: Any) -> Any:
            timing = _timing.get() or WireTiming()
            io = io_loop()
            loop = asyncio.get_running_loop()
            queue: asyncio.Queue[Any] = asyncio.Queue()
            stream = QueueStream(queue, timing, io)
            try:
                body = request.content
            except Exception:  # a streamed request body: read it here, on the caller's loop
                body = b"".join([part async for part in request.stream])

            def push(item: tuple[str, float, Any]) -> None:
                loop.call_soon_threadsafe(queue.put_nowait, item)

            future = io.submit(_send(httpx, io, request, body, timing, push))
            try:
                status, headers, reader = await asyncio.wrap_future(future)
            except asyncio.CancelledError:
                future.cancel()
                raise
            if isinstance(reader, bytes):  # the whole body, read on the I/O loop
                return httpx.Response(status_code=status, headers=headers, content=reader)
            stream.reader = reader
            return httpx.Response(status_code=status, headers=headers, stream=stream)

        async def aclose(self) -> None:
            # The pool belongs to the I/O loop and outlives any one client.
            return None

    return TimedTransport()


def _http_error(httpx: ModuleType, exc: BaseException, reading: bool) -> BaseException:
    """aiohttp's exception as the `httpx` one the SDK maps to its error classes."""
    import aiohttp

    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(text) if reading else httpx.ConnectTimeout(text)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(text)
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(text)
    return httpx.ReadError(text) if reading else httpx.ConnectError(text)


async def _send(
    httpx: ModuleType,
    io: _IOLoop,
    request: Any,
    body: bytes,
    timing: WireTiming,
    push: Any,
) -> tuple[int, list[tuple[str, str]], bytes | asyncio.Task[None]]:
    """On the I/O loop: send `request`, stamp it, and start forwarding its body."""
    import aiohttp
    from yarl import URL

    limits = request.extensions.get("timeout") or {}
    timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=limits.get("connect"), sock_read=limits.get("read")
    )
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
    try:
        response = await io.session().request(
            request.method,
            URL(str(request.url), encoded=True),
            headers=headers,
            data=body or None,
            timeout=timeout,
            allow_redirects=False,  # the SDK's client follows redirects itself
            trace_request_ctx=timing,
        )
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise _http_error(httpx, exc, reading=False) from exc
    timing.headers_at = _arrival(response)
    raw_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers]
    if "event-stream" not in response.headers.get("content-type", ""):
        # One answer, one hand-over: the caller's loop is woken once, not per chunk.
        try:
            data = await response.read()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise _http_error(httpx, exc, reading=True) from exc
        finally:
            response.release()
        timing.done_at = timing.last_chunk_at = _arrival(response)
        return response.status, raw_headers, data

    async def forward() -> None:
        try:
            async for chunk in response.content.iter_any():
                push(("chunk", _arrival(response), chunk))
            push(("end", _arrival(response), None))
        except asyncio.CancelledError:
            push(("error", time.perf_counter(), httpx.ReadError("the response was closed")))
            raise
        except Exception as exc:  # handed to the reader, raised where the SDK reads
            push(("error", time.perf_counter(), _http_error(httpx, exc, reading=True)))
        finally:
            response.release()

    reader = asyncio.get_running_loop().create_task(forward())
    return response.status, raw_headers, reader
