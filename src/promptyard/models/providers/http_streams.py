"""A small HTTP/1.1 client on asyncio's streams: the lean path's client for a base reached
directly (`http_pool.session_for`). It costs about half aiohttp's CPU per call (84 against
173 µs at c=128, `benchmarks/bench_http_client.py`; with it a run's CPU per cell at the
provider's limit fell from 0.71 to 0.55 ms), and it needs no aiohttp import (about 0.1 s of
CPU, a fifth of a small run's start) before a run's first call (`runs.head_start`).

`StreamSession` is the part of aiohttp's `ClientSession` that the lean path uses:
`post(url, data=..., headers=..., params=...)` as an async context manager giving a
response with `status`, `headers` (by any case), `read()` and `content.iter_any()`, and
`close()`. It serves an `http` or `https` api_base reached directly (one behind a proxy
from the environment, or with credentials in its URL, is aiohttp's) and keeps the idle
keep-alive connections of that base. An answer is framed as RFC 9112 says (no body for
204 and 304, a chunked body, a Content-Length, or a body that ends with the connection);
a gzip or deflate body is decoded. A connection that cannot be made or breaks, and an
answer that breaks the protocol, are `APIConnectionError`s, the SDK's name that the lean
path gives aiohttp's errors too, so the error kind is the same (`connection`, retryable).
The request is stamped as it is written (the session's `on_sent`: `http_pool.stamp_sent`),
as aiohttp's connector stamps it, so the latency recorded is the wire's either way.
"""

from __future__ import annotations

import asyncio
import functools
import re
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import urlencode, urlsplit

from promptyard.models.providers.http_errors import APIConnectionError

# The longest status line plus headers read (aiohttp takes 8 KiB a line), and a read's size.
HEAD_LIMIT = 64 * 1024
READ_SIZE = 64 * 1024
HAPPY_EYEBALLS_S = 0.25  # RFC 8305's connection attempt delay, aiohttp's default
KEEPALIVE_S = 30.0  # an idle connection is not used again after this long (aiohttp's too)
_NO_BODY = frozenset({204, 304})


class ProtocolError(Exception):
    """An answer that breaks HTTP/1.1 (not a ValueError: the error kind is a connection's,
    as for aiohttp's parser errors, not an invalid answer's)."""


_BROKEN = (OSError, EOFError, asyncio.LimitOverrunError, ProtocolError, zlib.error)
_BAD_IN_HEADER = ("\r", "\n", "\0")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110's field name


def serves(base_url: str) -> bool:
    """Whether a `StreamSession` can call `base_url` (the proxy is the caller's check)."""
    parts = urlsplit(base_url)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and parts.username is None
        and parts.password is None
    )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()  # the system's CAs, as aiohttp's default context


class Headers(Mapping[str, str]):
    """An answer's headers by name, whatever its case; a repeated one joined with ', '."""

    __slots__ = ("_by_name",)

    def __init__(self, by_name: dict[str, str]) -> None:
        self._by_name = by_name  # lower-case names

    def __getitem__(self, name: str) -> str:
        return self._by_name[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)


class StreamSession:
    """The keep-alive connections to one api_base in one event loop (see the module)."""

    def __init__(
        self, base_url: str, headers: Mapping[str, str], on_sent: Callable[[Any], None]
    ) -> None:
        parts = urlsplit(base_url)
        self._on_sent = on_sent  # called with the transport as a request is written
        self._tls = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if self._tls else 80)
        self._authority = parts.netloc  # the Host header: host[:port], as the URL says it
        self._headers = dict(headers)  # sent with every request unless a call overrides one
        # idle keep-alive connections, each with when it went idle (time.monotonic())
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self._closed = False

    def post(
        self,
        url: str,
        *,
        data: bytes,
        headers: Mapping[str, str],
        proxy: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Exchange:
        """The POST of `data` to `url`; `async with` it for the response."""
        if proxy is not None:  # `http_pool.session_for` gives a proxied base to aiohttp
            raise ValueError("a StreamSession sends directly, never through a proxy")
        return Exchange(self, self._request(url, data, headers, params))

    def _request(
        self, url: str, data: bytes, headers: Mapping[str, str], params: Mapping[str, Any] | None
    ) -> bytes:
        parts = urlsplit(url)
        target = parts.path or "/"
        query = "&".join(q for q in (parts.query, urlencode(params or {}, doseq=True)) if q)
        if query:
            target += "?" + query
        fields = {name.lower(): (name, value) for name, value in self._headers.items()}
        fields.update((name.lower(), (name, str(value))) for name, value in headers.items())
        fields["host"] = ("Host", self._authority)
        fields["content-length"] = ("Content-Length", str(len(data)))
        lines = [f"POST {target} HTTP/1.1"]
        for name, value in fields.values():
            if not _TOKEN.fullmatch(name):
                raise ValueError(f"{name!r} is not a header name")
            if any(c in value for c in _BAD_IN_HEADER):
                raise ValueError(f"the header {name!r} holds a newline or NUL")
            lines.append(f"{name}: {value}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + data

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while self._idle:
            reader, writer, since = self._idle.pop()
            if (
                not reader.at_eof()
                and not writer.is_closing()
                and time.monotonic() - since < KEEPALIVE_S
            ):
                return reader, writer
            # closed by the server while idle, or idle so long that something between may
            # have dropped it without a word (aiohttp keeps one as long)
            writer.close()
        return await asyncio.open_connection(
            self._host,
            self._port,
            ssl=_tls_context() if self._tls else None,
            server_hostname=self._host if self._tls else None,
            limit=HEAD_LIMIT,
            # a name with IPv6 and IPv4 addresses: the next is tried after 0.25 s, as
            # aiohttp does, rather than after a silent address's connect timeout
            happy_eyeballs_delay=HAPPY_EYEBALLS_S,
        )

    def _release(self, connection: tuple[Any, asyncio.StreamWriter], reusable: bool) -> None:
        if reusable and not self._closed:
            self._idle.append((connection[0], connection[1], time.monotonic()))
        else:
            connection[1].close()

    async def close(self) -> None:
        """Close the idle connections; one still in use closes as its exchange ends."""
        self._closed = True
        idle, self._idle = self._idle, []
        for _reader, writer, _since in idle:
            writer.close()


class Exchange:
    """One request and its response on a connection of a `StreamSession`."""

    def __init__(self, session: StreamSession, request: bytes) -> None:
        self._session = session
        self._request = request
        self._connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._response: StreamResponse | None = None

    async def __aenter__(self) -> StreamResponse:
        try:
            self._connection = reader, writer = await self._session._connection()
        except OSError as exc:  # refused, unreachable, a name not found, a TLS failure
            raise APIConnectionError(f"Connection error: {exc}") from exc
        self._session._on_sent(writer.transport)
        try:
            writer.write(self._request)
            self._response = await _read_head(reader)
        except _BROKEN as exc:
            self._session._release(self._connection, False)
            self._connection = None
            if isinstance(exc, asyncio.IncompleteReadError) and not exc.partial:
                raise APIConnectionError("Connection error: Server disconnected") from exc
            raise APIConnectionError(f"Connection error: {exc}") from exc
        return self._response

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._connection is not None:
            response = self._response
            # read to its end (an error answer too): the connection can take the next call
            reusable = response is not None and response.complete and response.keep_alive
            self._session._release(self._connection, reusable)
            self._connection = None


class StreamResponse:
    """An answer's status line and headers, and its body as it is read."""

    def __init__(
        self, version: bytes, status: int, headers: Headers, reader: asyncio.StreamReader
    ) -> None:
        self.status = status
        self.headers = headers
        self._reader = reader
        self._body: bytes | None = None
        self.complete = False  # the body was read to its end
        connection = {t.strip().lower() for t in headers.get("connection", "").split(",")}
        encodings = headers.get("transfer-encoding", "").lower()
        self._length: int | None = None
        self._chunked = False
        if status in _NO_BODY:
            self._length = 0
        elif encodings:
            self._chunked = encodings.rsplit(",", 1)[-1].strip() == "chunked"
        elif "content-length" in headers:
            lengths = {v.strip() for v in headers["content-length"].split(",")}
            if len(lengths) != 1 or not (text := lengths.pop()).isdigit():
                raise ProtocolError(f"Content-Length {headers['content-length']!r} is not a length")
            self._length = int(text)
        framed = self._chunked or self._length is not None  # else: the body ends at close
        self.keep_alive = framed and version == b"HTTP/1.1" and "close" not in connection
        coding = headers.get("content-encoding", "").strip().lower()
        self._decoder = (
            zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib, told by the header bytes
            if coding in ("gzip", "x-gzip", "deflate")
            else None
        )

    @property
    def content(self) -> StreamResponse:
        """The body as aiohttp's `response.content` gives it: `iter_any()`."""
        return self

    async def read(self) -> bytes:
        """The whole body (read once, then kept)."""
        if self._body is None:
            self._body = b"".join([piece async for piece in self.iter_any()])
        return self._body

    async def iter_any(self) -> AsyncIterator[bytes]:
        """The body's bytes as they arrive, decoded."""
        try:
            async for piece in self._raw():
                if self._decoder is not None:
                    piece = self._decoder.decompress(piece)
                if piece:
                    yield piece
            if self._decoder is not None and (tail := self._decoder.flush()):
                yield tail
        except asyncio.IncompleteReadError as exc:
            raise APIConnectionError(f"incomplete chunked read: {exc}") from exc
        except _BROKEN as exc:
            raise APIConnectionError(f"Connection error: {exc}") from exc
        self.complete = True

    async def _raw(self) -> AsyncIterator[bytes]:
        reader = self._reader
        if self._chunked:
            while size := _chunk_size(await reader.readuntil(b"\r\n")):
                yield await reader.readexactly(size)
                if await reader.readexactly(2) != b"\r\n":
                    raise ProtocolError("a chunk does not end where its size says")
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass  # trailer fields
        elif self._length is not None:
            left = self._length
            while left:
                piece = await reader.read(min(left, READ_SIZE))
                if not piece:
                    raise asyncio.IncompleteReadError(b"", left)
                left -= len(piece)
                yield piece
        else:
            while piece := await reader.read(READ_SIZE):
                yield piece


def _chunk_size(line: bytes) -> int:
    text = line.split(b";", 1)[0].strip()
    if not text or text.strip(b"0123456789abcdefABCDEF"):
        raise ProtocolError(f"not a chunk size: {line[:40]!r}")
    return int(text, 16)


async def _read_head(reader: asyncio.StreamReader) -> StreamResponse:
    """The status line and headers of the answer (an interim 1xx one skipped)."""
    while True:
        lines = (await reader.readuntil(b"\r\n\r\n"))[:-4].split(b"\r\n")
        version, _, rest = lines[0].partition(b" ")
        code = rest[:3]
        if not version.startswith(b"HTTP/1.") or not code.isdigit() or rest[3:4] not in (b"", b" "):
            raise ProtocolError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
        by_name: dict[str, str] = {}
        last = ""
        for line in lines[1:]:
            if line[:1] in (b" ", b"\t") and last:  # an obsolete folded continuation
                by_name[last] += " " + line.strip().decode("latin-1")
                continue
            name, colon, value = line.partition(b":")
            if not colon or not name or name != name.strip():
                raise ProtocolError(f"not a header line: {line[:80]!r}")
            last = name.decode("latin-1").lower()
            text = value.strip().decode("latin-1")
            by_name[last] = f"{by_name[last]}, {text}" if last in by_name else text
        status = int(code)
        if not 100 <= status < 200:
            return StreamResponse(version, status, Headers(by_name), reader)
