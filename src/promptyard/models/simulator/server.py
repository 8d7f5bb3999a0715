"""The simulator's HTTP server: an OpenAI-compatible API on 127.0.0.1 in a background thread.

`start_simulator()` serves `/v1/chat/completions` (plain and SSE streaming) and
`/v1/models`; `ensure_simulator()` starts the one in-process simulator that simulated
models use. Faults (`Faults`) can be switched on and off on a running server.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import threading
import time
import uuid
from collections import Counter, deque
from typing import Any

from promptyard.models.simulator.answers import _prompt_tokens
from promptyard.models.simulator.catalog import (
    REPEAT_HEADER,
    REPEAT_USER_PREFIX,
    SIMULATED_MODELS,
    SIMULATOR_LATENCY_ENV,
    SIMULATOR_URL_ENV,
    SimModel,
)
from promptyard.models.simulator.choices import SimChoice, chat_choices
from promptyard.models.simulator.faults import Faults, RpsLimiter, fault_response
from promptyard.models.simulator.prices import register_with_litellm
from promptyard.models.simulator.routes import (
    embeddings,
    legacy_completions,
    middleware,
    model_object,
    read_body,
    refuse,
    retrieve_model,
)
from promptyard.models.simulator.streaming import stream_answer
from promptyard.models.simulator.validation import Refusal, check_chat
from promptyard.threaded_server import ThreadedServer


def _variant(body: dict[str, Any], repeat: str | None) -> str:
    """What tells repeats apart: the repeat header (or `user="promptyard-repeat-N"`), `seed`."""
    user = str(body.get("user") or "")
    if repeat is None and user.startswith(REPEAT_USER_PREFIX):
        repeat, user = user.removeprefix(REPEAT_USER_PREFIX), ""
    return f"{repeat or ''}|{user}|{body.get('seed') or ''}"


def request_key(body: dict[str, Any], repeat: str | None = None) -> str:
    """The identity of a chat request: model, repeat index and a hash of the messages."""
    digest = hashlib.sha256(
        json.dumps(body.get("messages"), sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    return f"{body.get('model')}|{_variant(body, repeat)}|{digest}"


class SimulatorHandle(ThreadedServer):
    """A running simulator: `.url`, `.port`, `.faults`, call counts, `.stop()`."""

    name = "simulator"
    shutdown_timeout = 0.5

    def __init__(
        self,
        port: int = 0,
        latency_ms: float = 0.0,
        jitter_ms: float = 0.0,
        error_rate: float = 0.0,
        rps: float | None = None,
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        api_key: str | None = None,
    ) -> None:
        super().__init__(host, port)
        self.api_key = api_key  # when set, a request without this Bearer key gets a 401
        self.latency_ms = latency_ms
        self.jitter_ms = jitter_ms
        self.faults = faults or Faults()
        if error_rate:
            self.faults.error_rate = error_rate
        self.calls = 0  # chat completion requests received, whatever their outcome
        self.calls_by_key: Counter[str] = Counter()  # every request, by request_key()
        self.completed_by_key: Counter[str] = Counter()  # successful answers, by request_key()
        self.requests: deque[dict[str, Any]] = deque(maxlen=10_000)  # recent request bodies
        self.keep_requests = True
        self.last_authorization: str | None = None  # in memory only, for tests
        self._limiter = RpsLimiter(rps)
        self._rand = random.Random(0)

    @property
    def rps(self) -> float | None:
        """Requests per second above which the server answers 429 (None: no limit)."""
        return self._limiter.rps

    @rps.setter
    def rps(self, value: float | None) -> None:
        self._limiter.rps = value

    @property
    def url(self) -> str:
        """The OpenAI-compatible base url, e.g. `http://127.0.0.1:PORT/v1`."""
        return f"http://{self.host}:{self.port}/v1"

    def reset_counts(self) -> None:
        self.calls = 0
        self.calls_by_key.clear()
        self.completed_by_key.clear()
        self.requests.clear()

    # -- lifecycle: ThreadedServer; the routes are the simulator's ------------------------

    def _middlewares(self) -> list[Any]:
        return [middleware(self)]

    def _routes(self, app: Any) -> None:
        for prefix in ("/v1", ""):
            app.router.add_post(f"{prefix}/chat/completions", self._chat)
            app.router.add_post(f"{prefix}/completions", legacy_completions)
            app.router.add_post(f"{prefix}/embeddings", embeddings)
            app.router.add_get(f"{prefix}/models", self._models)
            app.router.add_get(f"{prefix}/models/{{model}}", retrieve_model)
        app.router.add_get("/health", self._health)

    # -- handlers ------------------------------------------------------------------------

    async def _health(self, request: Any) -> Any:
        from aiohttp import web

        return web.json_response({"ok": True, "calls": self.calls})

    async def _models(self, request: Any) -> Any:
        from aiohttp import web

        data = [model_object(m) for m in SIMULATED_MODELS.values()]
        return web.json_response({"object": "list", "data": data})

    def _latency_s(self, spec: SimModel) -> float:
        base = self.latency_ms * spec.latency_factor
        if self.jitter_ms and spec.latency_factor:
            base += self._rand.uniform(-self.jitter_ms, self.jitter_ms)
        return max(0.0, base) / 1000.0

    async def _chat(self, request: Any) -> Any:
        from aiohttp import web

        self.calls += 1
        body = await read_body(request)
        if isinstance(body, Refusal):
            return refuse(body)
        repeat = request.headers.get(REPEAT_HEADER)
        key = request_key(body, repeat)
        self.calls_by_key[key] += 1
        self.last_authorization = request.headers.get("Authorization")
        if self.keep_requests:
            self.requests.append({**body, "repeat": repeat} if repeat is not None else body)
        refusal = check_chat(body)
        if refusal:
            return refuse(refusal)
        model = str(body["model"])
        spec = SIMULATED_MODELS.get(model)
        messages = body["messages"]
        prompt_tokens = _prompt_tokens(messages)
        f = self.faults
        if f.hang:
            await asyncio.Event().wait()  # never answers; dropped on stop()
        fault = fault_response(
            f,
            self._limiter,
            self._rand,
            request.headers.get("Authorization"),
            spec,
            model,
            prompt_tokens,
        )
        if fault is not None:
            if f.slow_first_byte_ms:
                await asyncio.sleep(f.slow_first_byte_ms / 1000)
            return fault
        assert spec is not None
        choices = chat_choices(model, body, _variant(body, repeat))
        if f.filtered_output:
            choices = [SimChoice(0, "", "content_filter", 0)]
        completion_tokens = sum(c.completion_tokens for c in choices)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        created = int(time.time())
        # every response has its own id (as OpenAI's do); only the answer is deterministic
        cid = f"chatcmpl-sim{uuid.uuid4().hex[:24]}"
        latency = self._latency_s(spec)
        first_byte = f.slow_first_byte_ms / 1000
        if f.no_usage:
            usage = {}
        if body.get("stream"):
            done = self.completed_by_key
            return await stream_answer(
                request,
                f,
                body,
                (cid, created, model),
                (choices, usage),
                (latency, first_byte),
                lambda: done.update([key]),
            )
        await asyncio.sleep(latency + first_byte)
        if f.malformed_json:
            return web.Response(
                text='{"id": "' + cid + '", "choices": [{"message": ',
                content_type="application/json",
            )
        self.completed_by_key[key] += 1
        return web.json_response(
            {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "system_fingerprint": "promptyard-simulator",
                "choices": [c.as_json() for c in choices],
                **({"usage": usage} if usage else {}),
            }
        )


def start_simulator(
    port: int = 0,
    latency_ms: float = 0,
    jitter_ms: float = 0,
    error_rate: float = 0,
    rps: float | None = None,
    faults: Faults | None = None,
    host: str = "127.0.0.1",
    api_key: str | None = None,
) -> SimulatorHandle:
    """Start a simulator in a background thread; port 0 picks a free port.

    With `api_key`, every request must carry `Authorization: Bearer API_KEY` (else 401).
    When litellm is already imported, the simulated models' prices are registered with it.
    """
    register_with_litellm()
    return SimulatorHandle(
        port, latency_ms, jitter_ms, error_rate, rps, faults, host, api_key
    ).start()


_shared: SimulatorHandle | None = None
_shared_lock = threading.Lock()


def ensure_simulator() -> str:
    """The base url of the simulator that simulated models use.

    `$PROMPTYARD_SIMULATOR_URL` when set (a `promptyard simulate` elsewhere); else one
    in-process simulator, started on first use and kept for the life of the process.
    """
    url = os.environ.get(SIMULATOR_URL_ENV)
    if url:
        return url.rstrip("/")
    global _shared
    with _shared_lock:
        if _shared is None or not (_shared._thread and _shared._thread.is_alive()):
            try:
                latency = float(os.environ.get(SIMULATOR_LATENCY_ENV) or 0)
            except ValueError:
                latency = 0.0
            _shared = start_simulator(latency_ms=latency, jitter_ms=latency / 4)
            _shared.keep_requests = False
        return _shared.url


def shared_simulator() -> SimulatorHandle | None:
    """The in-process simulator `ensure_simulator()` started, if any."""
    return _shared
