"""A small OpenAI-compatible server on 127.0.0.1 that counts the requests of each cell.

The cell is known by its rendered user message (unique per dataset row in these tests).
Every request is logged with when it arrived and when it was answered, so a test can tell
which requests were in flight at a given moment, and the peak number at once.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from promptyard.threaded_server import ThreadedServer


@dataclass
class Request:
    key: str  # the user message: the cell's identity
    started: float
    answered: float | None = None


class CountingServer(ThreadedServer):
    """Chat completions after `latency_s`, a count per cell and a log of every request."""

    name = "counting server"

    def __init__(self, latency_s: float = 0.05) -> None:
        super().__init__("127.0.0.1", 0)
        self.latency_s = latency_s
        self.lock = threading.Lock()
        self.log: list[Request] = []
        self.in_flight = 0
        self.peak = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def counts(self) -> Counter[str]:
        with self.lock:
            return Counter(r.key for r in self.log)

    def in_flight_at(self, moment: float) -> set[str]:
        """The cells with a request that had arrived and was not answered at `moment`."""
        with self.lock:
            return {
                r.key
                for r in self.log
                if r.started <= moment and (r.answered is None or r.answered > moment)
            }

    def _routes(self, app: Any) -> None:
        from aiohttp import web

        async def chat(request: web.Request) -> web.Response:
            body = await request.json()
            key = str(body["messages"][-1]["content"])
            entry = Request(key, time.time())
            with self.lock:
                self.log.append(entry)
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)
            try:
                await asyncio.sleep(self.latency_s)
            finally:
                with self.lock:
                    self.in_flight -= 1
                    entry.answered = time.time()
            answer = {
                "id": f"chatcmpl-{len(self.log)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "counted"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": f"seen: {key[-40:]}"},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25},
            }
            return web.Response(text=json.dumps(answer), content_type="application/json")

        app.router.add_post("/v1/chat/completions", chat)
