"""The lean path's HTTP: one session per (event loop, api_base), and wire timing.

A base reached directly (http or https, no proxy from the environment, no credentials in
its URL) gets a `http_streams.StreamSession`: about half aiohttp's CPU per call, and
nothing to import before a run's first call. Any other base gets aiohttp's
`ClientSession`, as does every base in a loop that asks for it (`use_aiohttp_sessions`: the
tests' oracle for the small client).

A session (with its sized connection pool) is made on an endpoint's first call in an event
loop and kept for that loop's life: aiohttp's pools belong to one loop. `asyncio.run`
closes it when the loop shuts down (an async generator that the loop finalizes), so no
"unclosed session" warning is left behind.

Latency is the wire's, measured two ways and the smaller kept (`CallTiming.latency_ms`):

- in the process: from the moment the pool hands the call an open connection (so pool
  waits, DNS, connecting and TLS are not counted) to the moment the last byte was read;
  this overstates by whatever delayed this process (a busy event loop, the GIL held by
  another thread, the CPU given to another process);
- in the kernel (Linux): `TCP_INFO`'s `tcpi_last_data_sent` and `tcpi_last_data_recv`
  say how long ago the request's last byte left and the answer's last byte came in, so
  their difference is the wire time whatever this process was doing; it is counted in
  clock ticks (1-10 ms), so it caps the first figure (plus one tick) rather than
  replacing it.
"""

from __future__ import annotations

import asyncio
import functools
import math
import os
import socket
import struct
import sys
import threading
import time
import weakref
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import Any

#: Connections one session keeps at most; the engine's concurrency bounds what it uses.
POOL_LIMIT = 1024

_TCP_INFO = getattr(socket, "TCP_INFO", None) if sys.platform.startswith("linux") else None
_TCP_INFO_LEN = 104
# struct tcp_info: 8 bytes of u8 fields, then u32s; last_data_sent at 44, last_data_recv at 52
_LAST_SENT_RECV = struct.Struct("=I4xI")  # host byte order, as the kernel fills it
_MAX_TICK_MS = 10  # HZ=100, the coarsest kernel clock in use


class CallTiming:
    """When one call's request left and its answer arrived (`time.perf_counter()` stamps)."""

    __slots__ = ("sent_at", "transport")

    def __init__(self) -> None:
        self.sent_at: float | None = None
        self.transport: Any = None

    def since_sent_ms(self, at: float) -> float | None:
        """Milliseconds from the request leaving to `at`, capped by the kernel's wire time
        (None when no connection was handed out)."""
        if self.sent_at is None:
            return None
        measured = max(0.0, (at - self.sent_at) * 1000)
        kernel = kernel_wire_ms(self.transport)
        if kernel is not None and measured > kernel[0] + kernel[1]:
            return max(0.0, kernel[0] + kernel[1])
        return measured


_current: ContextVar[CallTiming | None] = ContextVar("promptyard_call_timing", default=None)


def start_timing() -> CallTiming:
    """A fresh `CallTiming` that the next request sent from this task fills in."""
    timing = CallTiming()
    _current.set(timing)
    return timing


def stamp_sent(transport: Any) -> None:
    """Note on this task's `CallTiming` (if it has one) that its request is written now, on
    the connection of `transport`."""
    timing = _current.get()
    if timing is not None:
        timing.transport = transport
        timing.sent_at = time.perf_counter()


_tick = {"ms": 0}  # the gcd of the kernel's millisecond figures seen: its clock tick


def kernel_wire_ms(transport: Any) -> tuple[float, float] | None:
    """(ms from the request's last byte sent to the answer's last byte received, the
    kernel clock's tick in ms) for the connection of `transport`; None off Linux, or when
    the connection is gone."""
    if _TCP_INFO is None or transport is None:
        return None
    try:
        sock = transport.get_extra_info("socket")
        if sock is None:
            return None
        info = sock.getsockopt(socket.IPPROTO_TCP, _TCP_INFO, _TCP_INFO_LEN)
        sent_ago, recv_ago = _LAST_SENT_RECV.unpack_from(info, 44)
    except (OSError, ValueError, struct.error):
        return None
    if recv_ago > sent_ago:
        return None  # nothing received since the request left: not this call's answer
    tick = _tick["ms"]
    for value in (sent_ago, recv_ago):
        if value:
            tick = math.gcd(tick, value)
    _tick["ms"] = tick
    return float(sent_ago - recv_ago), float(min(tick or _MAX_TICK_MS, _MAX_TICK_MS))


class _LoopSessions:
    """The sessions of one event loop, and the generator whose finalizing closes them."""

    def __init__(self) -> None:
        self.by_url: dict[str, Any] = {}
        self.closer: AsyncIterator[None] | None = None
        self.streams = True  # direct bases get `http_streams.StreamSession`s (no aiohttp)

    async def close(self) -> AsyncIterator[None]:
        # Parked for the loop's life; `loop.shutdown_asyncgens()` (asyncio.run does it)
        # finalizes it, and the sessions close on their own loop.
        try:
            yield
        finally:
            sessions, self.by_url = list(self.by_url.values()), {}
            for session, _proxy in sessions:
                await session.close()
            # a session refers to its loop: drop the entry, or the weak key never dies
            with _loops_lock:
                _loops.pop(asyncio.get_running_loop(), None)


_loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopSessions] = (
    weakref.WeakKeyDictionary()
)
_loops_lock = threading.Lock()


def _loop_sessions() -> _LoopSessions:
    loop = asyncio.get_running_loop()
    sessions = _loops.get(loop)
    if sessions is None:
        with _loops_lock:  # loops of other threads share the mapping, not the sessions
            sessions = _loops.setdefault(loop, _LoopSessions())
    return sessions


def use_aiohttp_sessions() -> None:
    """From now on the running loop calls every api_base through aiohttp, a base reached
    directly too (what the tests compare `http_streams.StreamSession` with)."""
    _loop_sessions().streams = False


async def session_for(base_url: str) -> tuple[Any, str | None]:
    """The session of the running loop for `base_url` (a `StreamSession` for a base reached
    directly, else aiohttp's), made on first use, and the proxy from the environment to
    send through (None: direct)."""
    sessions = _loop_sessions()
    session = sessions.by_url.get(base_url)
    if session is None:
        session = (_new_session(base_url, sessions), env_proxy(base_url))
        sessions.by_url[base_url] = session
        if sessions.closer is None:
            sessions.closer = sessions.close()
            await anext(sessions.closer)  # known to the loop's async generators from now
    return session


# Where urllib reads proxies from the environment alone (elsewhere: the system's settings).
_ENV_ONLY_PROXIES = sys.platform not in ("darwin", "win32")


def env_proxy(base_url: str) -> str | None:
    """The proxy that the environment (`HTTPS_PROXY`, `NO_PROXY`, ...) names for
    `base_url`, read once per session rather than per request."""
    if _ENV_ONLY_PROXIES and not any(name.lower().endswith("_proxy") for name in os.environ):
        return None  # none named: what urllib would find, without its import (~10 ms)
    import urllib.parse
    import urllib.request

    parts = urllib.parse.urlsplit(base_url)
    if not parts.hostname or urllib.request.proxy_bypass(parts.hostname):
        return None
    return urllib.request.getproxies().get(parts.scheme) or None


#: Sent with every request of a session (a call's own headers may override them).
SESSION_HEADERS = {"Accept": "application/json", "User-Agent": "promptyard"}


def streams_serve(base_url: str) -> bool:
    """Whether a `StreamSession` can call `base_url`: http or https, reached directly."""
    from promptyard.models.providers.http_streams import serves

    return serves(base_url) and env_proxy(base_url) is None


def _new_session(base_url: str, sessions: _LoopSessions) -> Any:
    from promptyard.models.providers.http_streams import KEEPALIVE_S, StreamSession

    if sessions.streams and streams_serve(base_url):
        return StreamSession(base_url, SESSION_HEADERS, stamp_sent)
    import aiohttp

    connector = _connector_class()(
        limit=POOL_LIMIT, limit_per_host=0, keepalive_timeout=KEEPALIVE_S
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=None),  # each call's own bound applies
        # The proxy is looked up once (`env_proxy`): with trust_env, aiohttp would look up
        # the proxy and ~/.netrc in a thread for every request.
        trust_env=False,
        cookie_jar=aiohttp.DummyCookieJar(),  # an API answer's cookies are not kept
        headers=SESSION_HEADERS,
    )


def load_client() -> None:
    """Import aiohttp (about 0.1 s of CPU) now rather than at the first call to a base it
    serves: a caller about to send through it from another thread loads it first, so that
    thread's calls need not share the interpreter with this import."""
    _connector_class()


@functools.cache
def _connector_class() -> type:
    """aiohttp's TCP connector, stamping the call's `CallTiming` as a connection is handed
    out (the request is written right after) and keeping its transport for the kernel."""
    import aiohttp

    class StampingConnector(aiohttp.TCPConnector):  # type: ignore[misc]
        async def connect(self, req: Any, *args: Any, **kwargs: Any) -> Any:
            conn = await super().connect(req, *args, **kwargs)
            stamp_sent(conn.transport)
            return conn

    return StampingConnector
