"""How a cell worker takes its lanes' cells: claimed in batches after each lane's cursor,
looked for again from the start when others' leases lapse, the budget reserved per batch,
and first of all the cells a head start already sent (`runs.head_start`).

`LaneClaims` is a part of `runs.cellwork.CellWorker`, kept here by responsibility.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from promptyard.runs import claims
from promptyard.runs.lanes import Lane, Outcome
from promptyard.runs.records import CellTodo
from promptyard.workspace import Workspace

if TYPE_CHECKING:
    from promptyard.runs.head_start import HeadStart

log = logging.getLogger(__name__)

POLL_S = 0.5  # how often a lane with nothing to claim looks again (others' leases)
MAX_CLAIM = 256


class LaneClaims:
    """The claiming half of a cell worker (the worker holds the state named here)."""

    ws: Workspace
    run_id: int
    owner: str
    execution: int
    cap: float | None
    patient: bool
    stop: asyncio.Event
    healthy: asyncio.Event
    outcome: Outcome
    lanes: dict[str, Lane]
    position_of: dict[int, int]

    async def _next(self, lane: Lane) -> CellTodo | None:
        async with lane.lock:
            while not lane.queue:
                if self.stop.is_set() or lane.done:
                    return None
                if lane.slots.limit == 0 or not self.healthy.is_set():
                    await asyncio.sleep(0.1)  # no share of the model yet, or paused
                    continue
                try:
                    if lane.prefetch is not None:  # the next batch is being claimed
                        prefetch, lane.prefetch = lane.prefetch, None
                        if await prefetch:
                            continue
                    if await self._look(lane):
                        continue
                except DBAPIError as exc:
                    if not self.patient:
                        raise
                    log.warning(
                        "run %s: cannot claim cells (%s); retrying", self.run_id, db_error_line(exc)
                    )
                    await asyncio.sleep(POLL_S)
                    continue
                if lane.done:
                    return None
                await asyncio.sleep(POLL_S)  # other workers hold the rest: wait on them
            if (
                self.cap is None
                and lane.prefetch is None
                and len(lane.queue) <= 2 * lane.slots.limit
            ):
                # Two rounds of calls or less left: claim the next batch now, so no call
                # waits for a claim (nor a claim for the writer's hold on the database).
                # Not under a budget: a batch that does not fit stops the worker, and the
                # cells still queued, which did fit, would go unsent.
                lane.prefetch = asyncio.create_task(self._refill(lane))
            return lane.queue.popleft()

    async def _settle_prefetches(self) -> None:
        """Let the claims still on their way land (the worker then gives back what it
        holds and did not send)."""
        for lane in self.lanes.values():
            if lane.prefetch is not None:
                prefetch, lane.prefetch = lane.prefetch, None
                try:
                    await prefetch
                except Exception as exc:  # noqa: BLE001 - its cells' leases lapse on their own
                    log.warning("run %s: a claim failed: %s", self.run_id, exc)

    async def _look(self, lane: Lane) -> bool:
        """Claim more of the lane's cells; True when there may be more to take now. A lane
        with nothing left anywhere is marked done."""
        if await self._refill(lane) or self.stop.is_set():
            return True
        if lane.cursor != claims.START:
            lane.cursor = claims.START  # look again from the start: freed leases
            return True
        await asyncio.to_thread(claims.break_dead_leases, self.ws, self.run_id)
        left = await asyncio.to_thread(
            claims.remaining, self.ws, self.run_id, self.execution, list(lane.parameters)
        )
        lane.done = not left
        return False

    async def _refill(self, lane: Lane) -> int:
        size = max(4, min(MAX_CLAIM, lane.slots.limit * 2))
        got = await self._claim(lane, lane.cursor, size)
        if not got:
            return 0
        lane.cursor = got[-1].position
        todo = [CellTodo(c.cell_id, c.variant_id, c.repeat, c.messages_json) for c in got]
        if self.cap is not None:
            from promptyard.runs.pricing import price_cells

            variants = {vid: (lane.endpoint, p) for vid, p in lane.parameters.items()}
            await asyncio.to_thread(price_cells, todo, variants)
            fit = await asyncio.to_thread(
                claims.reserve_budget,
                self.ws,
                self.run_id,
                self.owner,
                [(t.cell_id, t.budget_estimate) for t in todo],
            )
            if fit < len(todo):
                self.outcome.budget_stopped = True
                self.stop.set()
            todo = todo[:fit]
        lane.queue.extend(todo)
        return len(todo)

    async def _claim(
        self, lane: Lane, after: tuple[int, int, int], limit: int
    ) -> list[claims.Claimed]:
        return await asyncio.to_thread(
            claims.claim_cells,
            self.ws,
            self.run_id,
            self.owner,
            self.execution,
            list(lane.parameters),
            after,
            limit,
        )

    def _positions(self, variant_ids: Iterable[int]) -> set[int]:
        return {self.position_of[v] for v in variant_ids}

    async def _adopt_head(self, head: HeadStart) -> None:
        """Stop the head start and claim the cells it sent, before any other: they are the
        first of each lane in claim order, so a lane's first claim returns them. Each becomes a
        cell whose first attempt is that call; a call whose cell another worker took is
        dropped."""
        head.stop()  # what it has started is all there is to take
        for lane in self.lanes.values():
            wanted = head.wanted(self._positions(lane.parameters))
            if not wanted:
                continue
            got = await self._claim(lane, claims.START, wanted)
            for c in got:
                first = head.take(self.position_of[c.variant_id], c.position[0], c.repeat)
                lane.queue.append(
                    CellTodo(c.cell_id, c.variant_id, c.repeat, c.messages_json, first=first)
                )
            if got:
                lane.cursor = got[-1].position
        head.drop()


def db_error_line(exc: DBAPIError) -> str:
    """The first line of a database error (the driver's own words, no SQL)."""
    return (str(exc.orig or exc).strip().splitlines() or ["?"])[0][:200]
