"""One worker's share of a run: claim cells in batches, send them, store them, renew.

`CellWorker.run()` sends the cells it claims through `promptyard.models.complete` with
asyncio: one lane per model (its share of the model's concurrency and the run's, the
model's rpm through slots shared in the database), retries with backoff that honour
Retry-After, a per-call and a per-cell timeout. Finished cells go to one writer task that
stores them in batches while the lease holds, renews the lease and the shares, and notices
a cancel or a budget stop. No transaction spans a call. Any number of such workers, in
any processes, can work on one run at once (`promptyard.runs.claims`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from promptyard.runs import claims, shares
from promptyard.runs.cell_claiming import POLL_S, LaneClaims, db_error_line
from promptyard.runs.lanes import Lane, Limits, Outcome, SharedRate, call_model, load_run_guard
from promptyard.runs.limits import Slots, backoff
from promptyard.runs.records import (
    CellTodo,
    cell_update,
)
from promptyard.runs.state import VARIANT, get_run
from promptyard.storage import db
from promptyard.storage.tables import Variant, utcnow
from promptyard.workspace import Workspace

if TYPE_CHECKING:
    from promptyard.guardrails import RunGuard
    from promptyard.models import Completion
    from promptyard.runs.head_start import HeadStart

log = logging.getLogger(__name__)

FLUSH_S = 0.5  # the writer stores and polls cancel this often
WRITE_BATCH = 500
CANCEL_GRACE_S = 2.0
RENEW_S = 2.0  # at most this long between renewals: a joining worker soon gets a share
QUIET_S = 0.02  # no answer for this long: store what has come (see `writer`)
_QUIET = object()


class CellWorker(LaneClaims):
    """A worker of one run in this process (see the module's docstring)."""

    def __init__(
        self,
        ws: Workspace,
        run_id: int,
        execution: int,
        limits: Limits,
        *,
        hint: int = 1,
        done: int = 0,
        total: int = 0,
        on_progress: Callable[[int, int], None] | None = None,
        patient: bool = False,
        parent_pid: int | None = None,
        head: HeadStart | None = None,
        on_claimed_head: Callable[[], None] | None = None,
    ) -> None:
        self.ws, self.run_id, self.execution, self.limits = ws, run_id, execution, limits
        self.head = head  # calls sent before the run was stored (`runs.head_start`)
        # called (in a thread) once the head's cells are this worker's: no other may
        # claim before, or it sends them again
        self.on_claimed_head = on_claimed_head
        self.position_of: dict[int, int] = {}  # variant id -> its position in the plan
        self.owner = claims.new_owner()
        self.hint, self.done, self.total = hint, done, total
        self.on_progress, self.patient, self.parent_pid = on_progress, patient, parent_pid
        self.outcome = Outcome()
        self.results: asyncio.Queue[tuple[dict[str, Any], float] | None] = asyncio.Queue(
            maxsize=WRITE_BATCH * 4
        )
        self.stop = asyncio.Event()
        self.healthy = asyncio.Event()  # the lease is renewed: calls may go out
        self.global_slots = Slots(0)
        self.lanes: dict[str, Lane] = {}
        self.lane_of: dict[int, Lane] = {}
        self.cap: float | None = None
        self.concurrency = 1
        self.guard: RunGuard | None = None

    # --- set-up -----------------------------------------------------------------------

    def _load(self) -> None:
        from promptyard.models import resolve_model
        from promptyard.models.providers.keys import run_key

        with db.session(self.ws) as s:
            run = get_run(s, self.run_id)
            concurrency, cap = run.concurrency, run.max_cost_usd
            self.guard = load_run_guard(self.ws, run)  # the run's guardrail policy, or None
            variants = list(
                s.execute(
                    select(Variant)
                    .where(VARIANT.c.run_id == self.run_id)
                    .order_by(VARIANT.c.position)
                ).scalars()
            )
        self.concurrency, self.cap = max(1, int(concurrency)), cap
        for v in variants:
            assert v.id is not None
            lane = self.lanes.get(v.model)
            if lane is None:
                endpoint = resolve_model(self.ws, v.model)
                limit = max(1, min(self.concurrency, endpoint.max_concurrency or self.concurrency))
                lane = Lane(v.model, endpoint, limit, api_key=run_key(endpoint, self.ws))
                if endpoint.rpm:
                    lane.rate = SharedRate(self.ws, endpoint.name, endpoint.rpm)
                self.lanes[v.model] = lane
            lane.parameters[v.id] = json.loads(v.parameters_json or "{}")
            self.lane_of[v.id] = lane
            self.position_of[v.id] = v.position

    async def _renew(self) -> None:
        wants = {
            shares.RUN_SLOTS: self.concurrency,
            **{m: ln.limit for m, ln in self.lanes.items()},
        }
        # What this worker may use until the renewal returns: its current limit (calls can
        # start meanwhile) or more if a shrink left calls in flight. Recorded as held, so
        # the others never take slots this worker may still be using.
        in_use = {shares.RUN_SLOTS: self.global_slots.may_use}
        in_use.update({m: ln.slots.may_use for m, ln in self.lanes.items()})
        renewal = await asyncio.to_thread(
            shares.renew, self.ws, self.run_id, self.owner, wants, self.hint, in_use
        )
        await self.global_slots.resize(renewal.slots[shares.RUN_SLOTS])
        for model, lane in self.lanes.items():
            await lane.slots.resize(renewal.slots[model])
        held = sum(len(ln.queue) for ln in self.lanes.values())
        if renewal.renewed < held:  # paused past the lease: others took some of our cells
            await self._drop_lost()
        self._notice(renewal.flags)

    async def _drop_lost(self) -> None:
        mine = await asyncio.to_thread(claims.owned_ids, self.ws, self.run_id, self.owner)
        for lane in self.lanes.values():
            lane.queue = deque(c for c in lane.queue if c.cell_id in mine)

    def _notice(self, flags: claims.Flags) -> None:
        if flags.cancel and not self.outcome.cancelled:
            self.outcome.cancelled = True
            self.stop.set()
        if flags.budget_stopped and not self.outcome.budget_stopped:
            self.outcome.budget_stopped = True
            self.stop.set()

    # --- sending ----------------------------------------------------------------------

    async def process(self, lane: Lane, item: CellTodo) -> None:
        lim = self.limits
        first = item.first  # sent ahead: its answer is the first attempt
        started = first.started if first is not None else utcnow()
        # Every attempt, and every wait between them, fits in the cell's total timeout.
        total_s = max(0.001, lim.total_timeout_s)
        deadline = (first.sent_at if first is not None else time.monotonic()) + total_s
        attempts = 0
        result: Completion | None = None
        while True:
            if lane.rate is not None:
                await lane.rate.wait()
            await self.healthy.wait()
            async with lane.slots, self.global_slots:
                attempts += 1
                left = max(0.001, deadline - time.monotonic())
                if first is not None:
                    result = await asyncio.wrap_future(first.answer)
                    first = None
                else:
                    result = await call_model(
                        self.ws, lane, item, min(lim.timeout_s, left), self.guard
                    )
            if (
                result.ok
                or not result.retryable
                or attempts >= lim.max_attempts
                or self.stop.is_set()
            ):
                break
            wait = backoff(
                attempts - 1, result.retry_after_s, lim.backoff_base_s, lim.max_backoff_s
            )
            if time.monotonic() + wait >= deadline - 0.05:
                result.error_message = (
                    f"{result.error_message or result.error_kind}; gave up after {attempts} "
                    f"attempt(s): the cell's total timeout is {total_s:g} s"
                )
                break
            await asyncio.sleep(wait)
        row = cell_update(item, result, attempts, started, lim.max_output_bytes)
        await self.results.put((row, item.budget_estimate))

    async def sender(self, lane: Lane) -> None:
        while not self.stop.is_set():
            item = await self._next(lane)
            if item is None:
                return
            await self.process(lane, item)

    # --- storing ----------------------------------------------------------------------

    async def _store(self, batch: list[tuple[dict[str, Any], float]]) -> None:
        rows = [row for row, _ in batch]
        reserved = {row["id"]: est for row, est in batch}
        while True:
            try:
                stored, flags = await asyncio.to_thread(
                    claims.record_cells,
                    self.ws,
                    self.run_id,
                    self.owner,
                    self.execution,
                    rows,
                    reserved,
                )
                break
            except DBAPIError as exc:
                if not self.patient:
                    raise
                # The database went away: keep the batch, stop sending, try again.
                self.healthy.clear()
                log.warning(
                    "run %s: cannot store cells (%s); retrying", self.run_id, db_error_line(exc)
                )
                await asyncio.sleep(POLL_S * 2)
        self.outcome.stored += len(stored)
        self._notice(flags)
        if self.on_progress is not None:
            if self.hint > 1:
                done = await asyncio.to_thread(
                    claims.done_count, self.ws, self.run_id, self.execution
                )
            else:
                done = self.done + self.outcome.stored
            self.on_progress(done, self.total)

    async def _next_result(self, wait: float) -> Any:
        """The next finished cell (None: the senders are done), or _QUIET when none came
        within `wait` (the writer calls it with none waiting: `_take_waiting` took them)."""
        try:
            return await asyncio.wait_for(self.results.get(), wait)
        except TimeoutError:
            return _QUIET

    def _take_waiting(self, batch: list[tuple[dict[str, Any], float]]) -> bool:
        """Move the finished cells already waiting into `batch` (up to WRITE_BATCH);
        True when the senders are done."""
        while len(batch) < WRITE_BATCH and not self.results.empty():
            item = self.results.get_nowait()
            if item is None:
                return True
            batch.append(item)
        return False

    async def writer(self) -> None:
        """Store finished cells in batches, renew the lease, notice a cancel."""
        batch: list[tuple[dict[str, Any], float]] = []
        flush_at = time.monotonic() + FLUSH_S
        renew_every = min(claims.lease_seconds() / 3, RENEW_S)
        renew_at = time.monotonic() + renew_every
        healthy_until = time.monotonic() + claims.lease_seconds() * 0.8
        finished = False
        while True:
            finished = finished or self._take_waiting(batch)
            wait = flush_at - time.monotonic()
            if not finished and wait > 0 and len(batch) < WRITE_BATCH:
                if not batch:  # nothing in hand: wait for the first, or the flush
                    item = await self._next_result(wait)
                    if item is None:
                        finished = True
                    elif item is not _QUIET:
                        batch.append(item)
                    continue
                # Some in hand: look again after QUIET_S (one timer, not one per cell).
                # Still none new then: the calls in flight are all waiting on their
                # answers, so storing now does not hold up the answers' next calls.
                await asyncio.sleep(min(wait, QUIET_S))
                if not self.results.empty():
                    continue
            await self._store(batch)
            batch = []
            flush_at = time.monotonic() + FLUSH_S
            if self.parent_pid is not None and os.getppid() != self.parent_pid:
                self.outcome.cancelled = True  # the run's own process is gone: stop
                self.stop.set()
            if not self.healthy.is_set():
                renew_at = 0.0  # stored again after an outage: renew now, then send
            if not finished and time.monotonic() >= renew_at:
                try:
                    await self._renew()
                    renew_at = time.monotonic() + renew_every
                    healthy_until = time.monotonic() + claims.lease_seconds() * 0.8
                    self.healthy.set()
                except DBAPIError as exc:
                    if not self.patient:
                        raise
                    log.warning(
                        "run %s: cannot renew the lease (%s)", self.run_id, db_error_line(exc)
                    )
                    renew_at = time.monotonic() + POLL_S * 2
                    if time.monotonic() > healthy_until:
                        self.healthy.clear()  # the lease may lapse: send nothing new
            if finished:
                return

    async def run(self) -> Outcome:
        """Work on the run until it has nothing left to claim, is cancelled or hits its
        budget; give back what was claimed and not stored."""
        await asyncio.to_thread(self._load)
        await self._renew()
        self.healthy.set()
        if self.head is not None:
            await self._adopt_head(self.head)
        if self.on_claimed_head is not None:
            await asyncio.to_thread(self.on_claimed_head)
        writer_task = asyncio.create_task(self.writer())
        senders = [
            asyncio.create_task(self.sender(lane))
            for lane in self.lanes.values()
            for _ in range(lane.limit)
        ]
        pending = set(senders)
        try:
            while pending:
                _, pending = await asyncio.wait(pending, timeout=0.2)
                if writer_task.done() and pending:
                    # The writer failed (the database went away): nothing more can be
                    # stored, so stop sending and report its error.
                    await _drop(pending)
                    writer_task.result()
                if self.outcome.cancelled and pending:
                    # Give calls in flight a moment, then drop them: their cells go back.
                    _, pending = await asyncio.wait(pending, timeout=CANCEL_GRACE_S)
                    await _drop(pending)
                    pending = set()
            for task in senders:
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            await self.results.put(None)
            await writer_task
        finally:
            if not writer_task.done():
                writer_task.cancel()
            try:
                await self._settle_prefetches()
                await asyncio.to_thread(claims.release, self.ws, self.run_id, self.owner)
            except Exception as exc:  # the leases lapse on their own
                log.warning("run %s: could not give back claimed cells: %s", self.run_id, exc)
        return self.outcome


async def _drop(tasks: set[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
