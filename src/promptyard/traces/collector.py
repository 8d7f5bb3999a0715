"""`promptyard collect`: an OpenTelemetry OTLP/HTTP receiver for traces, and feedback.

`POST /v1/traces` takes an ExportTraceServiceRequest as protobuf or OTLP JSON (gzip or
not) and answers an ExportTraceServiceResponse in the same encoding; a malformed body
gets 400 with the reason (a google.rpc.Status) and nothing of it is stored, an unknown
Content-Type 415, a body over the limit 413, a database that cannot be written 503 (the
exporters retry). `POST /v1/feedback` records an end user's score. `GET /health`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from typing import Any

from promptyard.storage import StorageError
from promptyard.threaded_server import ThreadedServer
from promptyard.traces.feedback import FeedbackError, record_feedback
from promptyard.traces.ingest import Ingestor
from promptyard.traces.otlp import (
    JSON,
    PROTOBUF,
    OtlpError,
    UnsupportedMediaType,
    decode_traces,
    encode_status,
    media_type,
)
from promptyard.workspace import Workspace

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 32 * 1024**2  # compressed or not; the OTLP exporters send ~1-5 MB batches
_INVALID_ARGUMENT, _UNAVAILABLE = 3, 14


class CollectorHandle(ThreadedServer):
    """A running collector: `.url`, `.port`, `.stop()`; `serve_forever()` for the CLI."""

    name = "collector"

    def __init__(
        self,
        ws: Workspace,
        port: int = 4318,
        host: str = "127.0.0.1",
        max_body_bytes: int = MAX_BODY_BYTES,
        watch_pid: int | None = None,
    ) -> None:
        super().__init__(host, port)
        self.ws = ws
        self.max_body_bytes = max_body_bytes
        self.client_max_size = max_body_bytes
        self.watch_pid = watch_pid
        self.ingestor = Ingestor(ws)
        self.spans_received = 0

    @property
    def url(self) -> str:
        """The base URL an exporter's OTEL_EXPORTER_OTLP_ENDPOINT is set to."""
        return f"http://{self.host}:{self.port}"

    # -- lifecycle: ThreadedServer; the routes are the collector's ------------------------

    def _routes(self, app: Any) -> None:
        app.router.add_post("/v1/traces", self._traces)
        app.router.add_post("/v1/feedback", self._feedback)
        app.router.add_get("/health", self._health)

    def serve_forever(self, keep_going: Callable[[], bool] | None = None) -> None:
        """Block until interrupted, or until the process `watch_pid` (the UI) is gone."""

        def watched_alive() -> bool:
            if self.watch_pid and not _alive(self.watch_pid):
                logger.info("process %s ended: the collector stops", self.watch_pid)
                return False
            return keep_going() if keep_going is not None else True

        super().serve_forever(watched_alive)

    # -- handlers ------------------------------------------------------------------------

    async def _health(self, request: Any) -> Any:
        from aiohttp import web

        return web.json_response({"status": "ok", "spans_received": self.spans_received})

    async def _traces(self, request: Any) -> Any:
        from aiohttp import web

        wants_json = media_type(request.headers.get("Content-Type")) == JSON
        try:
            # aiohttp undoes Content-Encoding (gzip, deflate) and counts the unpacked bytes
            # against client_max_size, so a gzip bomb stops at the limit too.
            body = await request.read()
            loop = asyncio.get_running_loop()
            count = await loop.run_in_executor(None, self._ingest, body, request.content_type)
        except web.HTTPRequestEntityTooLarge:
            return _error(413, f"the body is over the {self.max_body_bytes} byte limit", wants_json)
        except UnsupportedMediaType as exc:
            return _error(415, str(exc), wants_json)
        except OtlpError as exc:
            return _error(400, str(exc), wants_json)
        except (StorageError, OSError) as exc:
            logger.warning("collector: spans not stored: %s", exc)
            return _error(503, f"spans not stored: {exc}", wants_json, _UNAVAILABLE)
        self.spans_received += count
        if wants_json:
            return web.Response(body=b"{}", content_type=JSON)
        return web.Response(body=b"", content_type=PROTOBUF)  # an empty response message

    def _ingest(self, body: bytes, content_type: str) -> int:
        spans = decode_traces(body, content_type, self.max_body_bytes)
        return self.ingestor.store(spans)

    async def _feedback(self, request: Any) -> Any:
        from aiohttp import web

        try:
            payload = json.loads(await request.read() or b"null")
        except web.HTTPRequestEntityTooLarge:
            return web.json_response({"message": "the body is too large"}, status=413)
        except (ValueError, UnicodeDecodeError) as exc:
            return web.json_response({"message": f"the body is not valid JSON: {exc}"}, status=400)
        try:
            loop = asyncio.get_running_loop()
            stored = await loop.run_in_executor(None, record_feedback, self.ws, payload)
        except FeedbackError as exc:
            return web.json_response({"message": str(exc)}, status=400)
        except (StorageError, OSError) as exc:
            return web.json_response({"message": f"feedback not stored: {exc}"}, status=503)
        return web.json_response(stored)


def _error(status: int, message: str, as_json: bool, code: int = _INVALID_ARGUMENT) -> Any:
    from aiohttp import web

    if as_json:
        return web.json_response({"code": code, "message": message}, status=status)
    return web.Response(body=encode_status(code, message), status=status, content_type=PROTOBUF)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_collector(
    ws: Workspace, port: int = 0, host: str = "127.0.0.1", max_body_bytes: int = MAX_BODY_BYTES
) -> CollectorHandle:
    """A collector for `ws` serving in a background thread (port 0: a free one)."""
    return CollectorHandle(ws, port=port, host=host, max_body_bytes=max_body_bytes).start()
