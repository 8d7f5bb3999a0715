"""The parts of a cell worker: its lanes (one per model), call limits, shared rpm, outcome."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from promptyard.runs import claims, shares
from promptyard.runs.limits import Slots
from promptyard.runs.records import CellTodo
from promptyard.runs.sending import send_once
from promptyard.workspace import Workspace

if TYPE_CHECKING:
    from promptyard.guardrails import RunGuard
    from promptyard.models import Completion, ModelEndpoint
    from promptyard.storage.tables import Run


@dataclass
class Limits:
    """How each call is sent: timeouts, output cap and the retry policy."""

    timeout_s: float
    total_timeout_s: float
    max_output_bytes: int
    max_attempts: int
    backoff_base_s: float
    max_backoff_s: float


class SharedRate:
    """A model's rpm limit over every worker: call slots granted from the database."""

    def __init__(self, ws: Workspace, model: str, rpm: int) -> None:
        self.ws, self.model, self.rpm = ws, model, rpm
        self.interval = 60.0 / rpm
        self.batch = max(1, min(50, rpm // 60))  # about a second of slots per grant
        self.times: deque[float] = deque()
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        """Return when this worker's next granted slot has come."""
        async with self.lock:
            if not self.times:
                start = await asyncio.to_thread(
                    shares.grant_rate_slots, self.ws, self.model, self.rpm, self.batch
                )
                self.times.extend(start + i * self.interval for i in range(self.batch))
            at = self.times.popleft()
        delay = at - time.time()
        if delay > 0:
            await asyncio.sleep(delay)


@dataclass
class Lane:
    """One model's part of the run in this worker: endpoint, shares and claimed cells."""

    model: str
    endpoint: ModelEndpoint
    limit: int  # the model's concurrency over every worker
    parameters: dict[int, dict[str, Any]] = field(default_factory=dict)  # by variant id
    queue: deque[CellTodo] = field(default_factory=deque)
    cursor: tuple[int, int, int] = claims.START
    slots: Slots = field(default_factory=lambda: Slots(0))
    rate: SharedRate | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    prefetch: asyncio.Task[int] | None = None  # the next batch's claim, while this one is sent
    done: bool = False
    api_key: str = ""  # `keys.run_key`, read once for the worker; it goes only to this endpoint


@dataclass
class Outcome:
    """How this worker's part ended."""

    cancelled: bool = False
    budget_stopped: bool = False
    stored: int = 0


def load_run_guard(ws: Workspace, run: Run) -> RunGuard | None:
    """The run's guardrail guard (`guardrails.load_run_guard`), or None without a policy.

    The guardrails engine (jsonschema, the PII detectors) is imported only for a run
    that names a policy: a run without one starts without it.
    """
    if not getattr(run, "guardrail_policy", None):
        return None
    from promptyard.guardrails import load_run_guard as load

    return load(ws, run)


async def call_model(
    ws: Workspace, lane: Lane, item: CellTodo, timeout_s: float, guard: RunGuard | None = None
) -> Completion:
    """One attempt of a cell's call (`runs.sending.send_once`), with the lane's endpoint,
    the variant's parameters and the key read once for the worker."""
    return await send_once(
        ws,
        lane.endpoint,
        lane.parameters[item.variant_id],
        item.messages_json,
        repeat=item.repeat,
        timeout_s=timeout_s,
        api_key=lane.api_key,
        guard=guard,
        variant_id=item.variant_id,
    )
