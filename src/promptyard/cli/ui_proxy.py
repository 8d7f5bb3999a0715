"""The frame guard in front of the workbench: a small reverse proxy that adds
`X-Frame-Options: SAMEORIGIN` and `Content-Security-Policy: frame-ancestors 'self'` to
every response, so no other site can show the workbench in a frame (clickjacking). Same
origin, not none: Streamlit shows components (the prompt editor) in frames of its own.

Streamlit 1.67 has no setting for response headers (its `server.*` options cover CORS,
XSRF, TLS and trusted user headers only), so `promptyard ui` runs Streamlit on a loopback
port of its own and serves this proxy on the address and port the user asked for. HTTP is
streamed both ways; WebSockets (Streamlit's `/_stcore/stream`) are relayed frame by frame.
"""

from __future__ import annotations

import asyncio
from typing import Any

from promptyard.threaded_server import ThreadedServer

FRAME_HEADERS = {
    "X-Frame-Options": "SAMEORIGIN",
    "Content-Security-Policy": "frame-ancestors 'self'",
}
# Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection, never forwarded.
_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}
_BUFFERED = 16 * 1024**2  # bodies up to this size are read whole, then sent in one write
_WS_CLIENT_OWN = {"sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions"}


def _forward(headers: Any, drop: frozenset[str] | set[str] = frozenset()) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers.items() if k.lower() not in _HOP | drop]


class FrameGuardProxy(ThreadedServer):
    """Serves `host:port`, relaying everything to the Streamlit server at `upstream_port`."""

    name = "workbench proxy"
    client_max_size = 0  # no cap here: Streamlit's own server.maxUploadSize decides

    def __init__(self, host: str, port: int, upstream_port: int) -> None:
        super().__init__(host, port)
        self.upstream = f"127.0.0.1:{upstream_port}"
        self._session: Any = None

    def _routes(self, app: Any) -> None:
        from aiohttp import web

        app.router.add_route("*", "/{tail:.*}", self._handle)
        app.on_cleanup.append(self._close_session)
        del web

    async def _close_session(self, app: Any) -> None:
        if self._session is not None:
            await self._session.close()

    def _client(self) -> Any:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(
                # A fresh loopback connection per request: Streamlit's server answers a
                # reused keep-alive connection ~45 ms late (bench_ui_proxy.py), a new one in 1.
                connector=aiohttp.TCPConnector(force_close=True),
                auto_decompress=False,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
                cookie_jar=aiohttp.DummyCookieJar(),  # cookies pass through, never kept
            )
        return self._session

    async def _handle(self, request: Any) -> Any:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._websocket(request)
        return await self._http(request)

    async def _http(self, request: Any) -> Any:
        import aiohttp
        from aiohttp import web

        url = f"http://{self.upstream}{request.rel_url}"
        try:
            upstream = await self._client().request(
                request.method,
                url,
                headers=_forward(request.headers),
                data=request.content if request.can_read_body else None,
                allow_redirects=False,
            )
        except aiohttp.ClientError:
            return web.Response(
                status=502, text="the workbench is starting or has stopped", headers=FRAME_HEADERS
            )
        async with upstream:
            headers = _forward(upstream.headers, {"content-length"})
            size = upstream.content_length
            if size is not None and size <= _BUFFERED:
                # Headers and body in one write: a second small write would wait for the
                # client's delayed ACK (Nagle), ~40 ms on every request.
                body = await upstream.read()
                whole = web.Response(status=upstream.status, reason=upstream.reason, body=body)
                for key, value in headers:
                    whole.headers.add(key, value)
                whole.headers.update(FRAME_HEADERS)
                return whole
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            for key, value in headers:
                response.headers.add(key, value)
            response.headers.update(FRAME_HEADERS)
            if size is not None:
                response.content_length = size
            try:
                await response.prepare(request)
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
                await response.write_eof()
            except (ConnectionError, aiohttp.ClientConnectionError):
                pass  # the browser went away mid-answer (a reload, a redirect): nothing to do
        return response

    async def _websocket(self, request: Any) -> Any:
        import aiohttp
        from aiohttp import web

        protocols = [
            p.strip()
            for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")
            if p.strip()
        ]
        headers = _forward(request.headers, _WS_CLIENT_OWN | {"sec-websocket-protocol"})
        try:
            upstream = await self._client().ws_connect(
                f"ws://{self.upstream}{request.rel_url}",
                headers=headers,
                protocols=protocols,
                max_msg_size=0,
                autoping=False,
            )
        except (aiohttp.ClientError, aiohttp.WSServerHandshakeError):
            return web.Response(status=502, text="the workbench refused the connection")
        downstream = web.WebSocketResponse(
            protocols=[upstream.protocol] if upstream.protocol else (),
            max_msg_size=0,
            autoping=False,
        )
        downstream.headers.update(FRAME_HEADERS)
        await downstream.prepare(request)

        async def pump(source: Any, sink: Any) -> None:
            async for message in source:
                if message.type == aiohttp.WSMsgType.TEXT:
                    await sink.send_str(message.data)
                elif message.type == aiohttp.WSMsgType.BINARY:
                    await sink.send_bytes(message.data)
                elif message.type == aiohttp.WSMsgType.PING:
                    await sink.ping(message.data)
                elif message.type == aiohttp.WSMsgType.PONG:
                    await sink.pong(message.data)
                else:
                    break
            await sink.close()

        tasks = [
            asyncio.ensure_future(pump(downstream, upstream)),
            asyncio.ensure_future(pump(upstream, downstream)),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        await upstream.close()
        return downstream
