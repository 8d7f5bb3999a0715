"""An aiohttp server on its own thread and event loop: the simulator's and the collector's.

A subclass gives its routes (`_routes`); `start()` returns once the socket listens (or
raises what stopped it), `stop()` ends it from any thread, and `serve_forever()` blocks a
command until the server ends or `keep_going()` says to stop.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable
from typing import Any, Self

from promptyard.errors import PromptyardError

__all__ = ["ThreadedServer"]


class ThreadedServer:
    """The lifecycle both servers share; subclasses set `name` and implement `_routes`."""

    name = "server"  # in the thread's name and in a "cannot listen" message
    client_max_size = 64 * 1024**2
    shutdown_timeout = 1.0

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: Any = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def _routes(self, app: Any) -> None:
        """Add the server's routes to the aiohttp `web.Application`."""
        raise NotImplementedError

    def _middlewares(self) -> list[Any]:
        return []

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._run, name=f"promptyard-{self.name}", daemon=True
        )
        self._thread.start()
        self._ready.wait(15)
        if self._error:
            raise self._error
        if not self._ready.is_set():
            raise RuntimeError(f"the {self.name} did not start within 15 s")
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._runner.cleanup())
            pending = asyncio.all_tasks(loop)  # hung requests
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    async def _serve(self) -> None:
        from aiohttp import web

        app = web.Application(client_max_size=self.client_max_size, middlewares=self._middlewares())
        self._routes(app)
        runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=self.shutdown_timeout
        )
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            await runner.cleanup()
            raise PromptyardError(
                f"cannot listen on {self.host}:{self.port} ({exc.strerror}); is another "
                f"{self.name} running? Pick another --port"
            ) from None
        self.port = sock.getsockname()[1]
        await web.SockSite(runner, sock, backlog=1024).start()
        self._runner = runner

    def stop(self) -> None:
        """Stop serving; open connections (hung requests too) are dropped."""
        loop = self._loop
        if loop is None or not loop.is_running():
            return
        loop.call_soon_threadsafe(loop.stop)
        if self._thread:
            self._thread.join(10)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self, keep_going: Callable[[], bool] | None = None) -> None:
        """Block until interrupted, the server ends, or `keep_going()` returns False."""
        try:
            while self._thread and self._thread.is_alive():
                self._thread.join(0.5)
                if keep_going is not None and not keep_going():
                    return
        finally:
            self.stop()
