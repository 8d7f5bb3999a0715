"""A fresh run's first calls, sent while the engine opens the database and stores the plan.

A run's cells are sent by workers that claim them from the database, so without this the
first call waits for the storage layer to load, the plan to be stored and the first claim:
about half a second of a small run's start. When nothing stored can change what the first
calls are, they need not wait: no response cache to look in, no budget to hold, no
guardrail policy, no rpm shared through the database, every key present and the identity
allowed to start runs. Then `start_head` sends the first cells in the order a worker claims
them (row by row; one per slot of each model, within the run's concurrency) from the plan
in memory, on an event loop of its own in a thread. The run's own worker claims those cells
first (`CellWorker`) and takes each answer as its cell's first attempt: retried if it failed
retryably, recorded once under the worker's lease, its latency the provider's as always.
A cell some other worker claimed first is sent by that worker; the head's answer for it is
not used.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from promptyard.runs.sending import send_once
from promptyard.workspace import Workspace

if TYPE_CHECKING:
    from promptyard.models import Completion
    from promptyard.runs.planning import RunPlan


@dataclass
class HeadCall:
    """One call sent ahead of the run's workers, and where its answer will be."""

    variant: int  # the variant's position in the plan
    row_index: int
    repeat: int
    started: datetime  # when it was sent: the cell's started_at
    sent_at: float  # time.monotonic() then: the cell's total timeout counts from it
    answer: concurrent.futures.Future[Completion]


class HeadStart:
    """The calls sent ahead of a run (see the module's docstring)."""

    def __init__(self, calls: list[HeadCall]) -> None:
        self._calls = {(c.variant, c.row_index, c.repeat): c for c in calls}

    def __len__(self) -> int:
        return len(self._calls)

    def wanted(self, variants: set[int]) -> int:
        """How many of the calls are for these variant positions."""
        return sum(1 for key in self._calls if key[0] in variants)

    def take(self, variant: int, row_index: int, repeat: int) -> HeadCall | None:
        """The call sent for this cell, once; None when none was."""
        return self._calls.pop((variant, row_index, repeat), None)

    def drop(self) -> None:
        """Give up the calls not taken: their answers are never stored (they are in flight
        already; cancelling them would save the provider nothing)."""
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
    """Send the plan's first calls now, if nothing stored can change them (the module's
    docstring says when); None when the run must wait for its workers."""
    from promptyard.models.endpoints import api_key
    from promptyard.models.providers.keys import missing_key
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
    from promptyard.models.providers.http_pool import load_client

    keys = {name: api_key(e, ws) or "" for name, e in endpoints.items()}
    load_client()  # here, before the head's thread runs beside this one's imports
    picked = _first_cells(plan, concurrency)
    calls: list[HeadCall] = []
    jobs: list[tuple[HeadCall, Any]] = []
    for variant, row_index, repeat, messages_json in picked:
        v = plan.variants[variant]
        now = datetime.now(UTC)
        call = HeadCall(
            variant, row_index, repeat, now, time.monotonic(), concurrent.futures.Future()
        )
        parameters = json.loads(json.dumps(v.parameters, sort_keys=True, default=str))
        send = send_once(
            ws,
            v.endpoint,
            parameters,
            messages_json,
            repeat=repeat,
            timeout_s=timeout_s,
            api_key=keys[v.model],
        )
        calls.append(call)
        jobs.append((call, send))
    threading.Thread(target=_serve, args=(jobs,), name="promptyard-head-start", daemon=True).start()
    return HeadStart(calls)


def _first_cells(plan: RunPlan, concurrency: int) -> list[tuple[int, int, int, str]]:
    """(variant, row index, repeat, messages) of the first cells a worker would claim: row
    by row, each model's variants in order, at most its concurrency per model and the
    run's in all."""
    cells: Any = plan.cells  # a PlannedCells: variant-major, rows, then repeats
    per_variant = cells.per_variant
    rows = per_variant // plan.repeats
    room = {
        v.model: max(1, min(concurrency, v.endpoint.max_concurrency or concurrency))
        for v in plan.variants
    }
    picked: list[tuple[int, int, int, str]] = []
    for row in range(rows):
        for variant, v in enumerate(plan.variants):
            for repeat in range(plan.repeats):
                if len(picked) >= concurrency:
                    return picked
                if room[v.model] <= 0:
                    continue
                room[v.model] -= 1
                cell = cells[variant * per_variant + row * plan.repeats + repeat]
                picked.append((variant, cell.row_index, cell.repeat, cell.messages_json))
        if not any(room.values()):
            break
    return picked


def _serve(jobs: list[tuple[HeadCall, Any]]) -> None:
    """The head's own event loop, in its thread: send every call, hand each answer over."""

    async def one(call: HeadCall, send: Any) -> None:
        try:
            call.answer.set_result(await send)
        except Exception as exc:  # send_once returns failures; this would be a bug
            call.answer.set_exception(exc)

    async def main() -> None:
        await asyncio.gather(*(one(c, s) for c, s in jobs), return_exceptions=True)

    asyncio.run(main())  # its end closes the loop's HTTP sessions
