"""A fresh run's first calls, sent while the engine opens the database and stores the plan.

A run's cells are sent by workers that claim them from the database, so without this the
first call waits for the storage layer to load, the plan to be stored and the first claim:
about half a second of a small run's start. When nothing stored can change what the first
calls are, they need not wait: no response cache to look in, no budget to hold, no
guardrail policy, no rpm shared through the database, every key present and the identity
allowed to start runs. Then `start_head` sends the plan's cells in the order a worker
claims them (row by row, each model's in its own slots: as many as the first `concurrency`
cells give it), from the plan in memory, on an event loop of its own in a thread, and goes
on sending until the run's worker takes over (at most `MAX_HEAD_CELLS`). The worker stops
it, claims every cell it started before any other (`runs.cell_claiming`) and takes each
answer as its cell's first attempt: retried if it failed retryably, recorded once under the
worker's lease, its latency the provider's as always. A cell some other worker claimed
first is sent by that worker; the head's answer for it is not used.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from promptyard.runs.sending import send_once
from promptyard.workspace import Workspace

if TYPE_CHECKING:
    from promptyard.models import Completion, ModelEndpoint
    from promptyard.runs.planning import RunPlan

MAX_HEAD_CELLS = 20_000  # the answers held until the worker takes them: ~3.4 KB each
# Loop turns for the first calls to connect and be written (one or two each on a local
# server; a remote one's handshake takes its round trip whatever this thread does).
SETTLE_TICKS = 8
SETTLE_MAX_S = 0.25


@dataclass
class HeadCall:
    """One call sent ahead of the run's workers, and where its answer will be."""

    variant: int  # the variant's position in the plan
    row_index: int
    repeat: int
    started: datetime  # when it was sent: the cell's started_at
    sent_at: float  # time.monotonic() then: the cell's total timeout counts from it
    answer: concurrent.futures.Future[Completion]


Cell = tuple[int, int, int, str]  # (variant position, row index, repeat, messages JSON)


class HeadStart:
    """The calls sent ahead of a run (see the module's docstring). The head's thread
    starts calls (`next_call`) until `stop`; the worker then takes them."""

    def __init__(self, queues: dict[str, Iterator[Cell]], limit: int | None = None) -> None:
        self._queues = queues
        self._limit = MAX_HEAD_CELLS if limit is None else limit
        self._calls: dict[tuple[int, int, int], HeadCall] = {}
        self._started = 0
        self._stopped = False
        self._lock = threading.Lock()  # the head's thread starts calls, the worker stops it

    def next_call(self, model: str) -> tuple[HeadCall, str] | None:
        """The next cell of `model` to send, as a started call, and its messages; None once
        stopped, at the limit, or when the model has no more cells."""
        with self._lock:
            if self._stopped or self._started >= self._limit:
                return None
            cell = next(self._queues[model], None)
            if cell is None:
                return None
            variant, row_index, repeat, messages_json = cell
            call = HeadCall(
                variant, row_index, repeat, datetime.now(UTC), time.monotonic(),
                concurrent.futures.Future(),
            )  # fmt: skip
            self._calls[(variant, row_index, repeat)] = call
            self._started += 1
            return call, messages_json

    def stop(self) -> None:
        """No call starts after this: the ones started are what the worker may take."""
        with self._lock:
            self._stopped = True

    def wanted(self, variants: set[int]) -> int:
        """How many of the started calls are for these variant positions."""
        return sum(1 for key in self._calls if key[0] in variants)

    def take(self, variant: int, row_index: int, repeat: int) -> HeadCall | None:
        """The call sent for this cell, once; None when none was."""
        return self._calls.pop((variant, row_index, repeat), None)

    def drop(self) -> None:
        """Give up the calls not taken: their answers are never stored (they are in flight
        already; cancelling them would save the provider nothing)."""
        self.stop()
        self._calls = {}


def start_head(
    ws: Workspace,
    plan: RunPlan,
    *,
    concurrency: int,
    use_cache: bool,
    max_cost: float | None,
    timeout_s: float,
) -> HeadStart | None:
    """Start sending the plan's cells now, if nothing stored can change them (the module's
    docstring says when); None when the run must wait for its workers."""
    from promptyard.models.providers.keys import missing_key, run_key
    from promptyard.team import Permission, PermissionDeniedError, require

    endpoints = {v.model: v.endpoint for v in plan.variants}
    if use_cache or max_cost is not None or plan.guardrails or not plan.calls:
        return None
    if getattr(plan.cells, "per_variant", None) is None:
        return None  # cells given one by one (a list), not a plan's PlannedCells
    if any(e.rpm for e in endpoints.values()):
        return None
    if any(missing_key(e, ws) for e in endpoints.values()):
        return None  # the run is refused with the variable to set, and nothing is sent
    try:
        require(ws, Permission.START_RUNS, "start runs")
    except PermissionDeniedError:
        return None  # refused as the run is stored, with the reason
    if not all(_streams_serve(e) for e in endpoints.values()):
        from promptyard.models.providers.http_pool import load_client

        load_client()  # here, before the head's thread runs beside this one's imports
    head = HeadStart({model: _cells_of(plan, model) for model in endpoints})
    # Each variant's parameters as its worker reads them back.
    parameters = {i: json.loads(v.parameters_json) for i, v in enumerate(plan.variants)}
    sends = []
    for model, slots in _slots(plan, concurrency).items():
        endpoint = endpoints[model]
        key = run_key(endpoint, ws)
        sends += [_Slot(ws, head, model, endpoint, key, parameters, timeout_s)] * slots
    sent = threading.Event()
    threading.Thread(
        target=_serve, args=(sends, sent), name="promptyard-head-start", daemon=True
    ).start()
    # This thread waits while the first calls go out: its next step, loading the storage
    # layer, would otherwise share the interpreter with them (and delay them).
    sent.wait(SETTLE_MAX_S)
    return head


def _streams_serve(endpoint: ModelEndpoint) -> bool:
    """Whether the head calls `endpoint` without aiohttp: an api_base reached directly
    (`http_pool.session_for`; the in-process simulator is aiohttp's anyway)."""
    from promptyard.models.providers.http_pool import streams_serve

    return endpoint.api_base is not None and streams_serve(endpoint.api_base.rstrip("/"))


def _cells_of(plan: RunPlan, model: str) -> Iterator[Cell]:
    """The cells of `model`'s variants in the order a worker claims them: by row, then
    variant, then repeat (a variant's id grows with its position)."""
    cells: Any = plan.cells  # a PlannedCells: variant-major, rows, then repeats
    per_variant = cells.per_variant
    mine = [i for i, v in enumerate(plan.variants) if v.model == model]
    for row in range(per_variant // plan.repeats):
        for variant in mine:
            for repeat in range(plan.repeats):
                cell = cells[variant * per_variant + row * plan.repeats + repeat]
                yield variant, cell.row_index, cell.repeat, cell.messages_json


def _slots(plan: RunPlan, concurrency: int) -> dict[str, int]:
    """Each model's calls at a time in the head: as many as it has among the first
    `concurrency` cells a worker would claim, within its own `max_concurrency`."""
    room = {
        v.model: max(1, min(concurrency, v.endpoint.max_concurrency or concurrency))
        for v in plan.variants
    }
    slots = dict.fromkeys(room, 0)
    cells: Any = plan.cells  # a PlannedCells (start_head checked)
    rows = cells.per_variant // plan.repeats
    taken = 0
    for _row in range(rows):
        for v in plan.variants:
            for _repeat in range(plan.repeats):
                if taken >= concurrency or all(slots[m] >= room[m] for m in room):
                    return slots
                if slots[v.model] < room[v.model]:
                    slots[v.model] += 1
                    taken += 1
    return slots


@dataclass(frozen=True)
class _Slot:
    """One of a model's slots in the head: it sends that model's next cell, again and
    again, until the head stops."""

    ws: Workspace
    head: HeadStart
    model: str
    endpoint: Any
    api_key: str
    parameters: dict[int, dict[str, Any]]
    timeout_s: float

    async def run(self) -> None:
        while (started := self.head.next_call(self.model)) is not None:
            call, messages_json = started
            try:
                call.answer.set_result(
                    await send_once(
                        self.ws,
                        self.endpoint,
                        self.parameters[call.variant],
                        messages_json,
                        repeat=call.repeat,
                        timeout_s=self.timeout_s,
                        api_key=self.api_key,
                    )
                )
            except Exception as exc:  # send_once returns failures; this would be a bug
                call.answer.set_exception(exc)


def _serve(slots: list[_Slot], sent: threading.Event) -> None:
    """The head's own event loop, in its thread, until every slot is done; `sent` is set
    once the first calls are on their way."""

    async def main() -> None:
        tasks = [asyncio.create_task(slot.run()) for slot in slots]
        for _ in range(SETTLE_TICKS):
            await asyncio.sleep(0)
        sent.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    try:
        asyncio.run(main())  # its end closes the loop's HTTP sessions
    finally:
        sent.set()
