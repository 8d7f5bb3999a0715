"""Warming the model layer once per process, in the background, before the first call.

A fresh server's first call used to pay for everything at once: the price map, the
tokenizer, the `openai` SDK and its answer types, the I/O loop, the in-process simulator
(and litellm for hosted models). `start_warm_up()` does that work on a daemon thread when
the UI starts, so "Run all" on a fresh server answers within a few seconds.

litellm is imported only when the workspace can call a model through it (a key is set
for a litellm-routed model): nothing on a start path imports it otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from dataclasses import dataclass, field

from promptyard.workspace import Workspace

log = logging.getLogger(__name__)

_started: threading.Thread | None = None
_lock = threading.Lock()


@dataclass
class WarmUp:
    """What the warm-up did and how long each step took, in seconds."""

    steps: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _needs_litellm(ws: Workspace | None) -> bool:
    from promptyard.models.catalog import load_endpoints
    from promptyard.models.endpoints import api_key, providers_with_keys
    from promptyard.models.providers import ProviderKind, provider_kind

    if ws is None:
        return False
    if providers_with_keys(ws):
        return True
    try:
        endpoints = load_endpoints(ws).values()
    except Exception:  # noqa: BLE001 - a broken models.yaml is reported by the pages
        return False
    return any(
        provider_kind(e) == ProviderKind.LITELLM and (e.api_key_env is None or api_key(e, ws))
        for e in endpoints
    )


async def _echo_call() -> None:
    from promptyard.models.catalog import simulated_endpoint
    from promptyard.models.providers import ModelCall, complete

    call = ModelCall(
        simulated_endpoint("echo"), [{"role": "user", "content": "warm"}], {}, stream=True
    )
    await complete(call, on_delta=lambda _piece: None)


def warm_up(ws: Workspace | None = None) -> WarmUp:
    """Load what a first model call needs, now; never raises (errors are listed)."""
    from promptyard.models.simulator import SIMULATOR_URL_ENV

    report = WarmUp()

    def step(name: str, fn: object) -> None:
        t0 = time.perf_counter()
        try:
            fn()  # type: ignore[operator]
        except Exception as exc:  # noqa: BLE001 - warming is best effort
            report.errors.append(f"{name}: {type(exc).__name__}: {exc}")
        report.steps[name] = time.perf_counter() - t0

    def prices() -> None:
        from promptyard.models.pricing import price_map

        price_map()

    def tokenizer() -> None:
        from promptyard.prompts.tokens import count_text_tokens

        count_text_tokens("warm up", "gpt-4o-mini")

    def sdk() -> None:
        import openai  # noqa: F401
        from openai.types.chat import ChatCompletionChunk  # noqa: F401

    def first_call() -> None:
        # The in-process simulator and one streamed call through the real path: client,
        # transport, I/O loop, SSE parsing. An outside simulator is left alone: its call
        # counts belong to whoever runs it.
        if not os.environ.get(SIMULATOR_URL_ENV):
            asyncio.run(_echo_call())

    def litellm() -> None:
        if _needs_litellm(ws):
            import litellm  # noqa: F401

    for name, fn in (
        ("prices", prices),
        ("tokenizer", tokenizer),
        ("openai sdk", sdk),
        ("first call", first_call),
        ("litellm", litellm),
    ):
        step(name, fn)
    if report.errors:
        log.info("model warm-up: %s", "; ".join(report.errors))
    return report


def start_warm_up(ws: Workspace | None = None) -> threading.Thread:
    """Run `warm_up` once per process on a daemon thread; the thread (already started)."""
    global _started
    with _lock:
        if _started is None:
            _started = threading.Thread(
                target=warm_up, args=(ws,), name="promptyard-warm-up", daemon=True
            )
            _started.start()
        return _started
