"""Limits of a run: calls per minute, the budget cap, and the retry policy with backoff.

They know nothing of the executor, so each is testable on its own (promptfoo keeps its
scheduler apart in the same way).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque

# The retry policy: attempts per cell and the exponential backoff between them.
MAX_ATTEMPTS = 5
BACKOFF_BASE_S = 0.5
MAX_BACKOFF_S = 30.0
# Timeouts: one attempt, and a cell in all (every attempt and every wait between them).
CALL_TIMEOUT_S = 60.0
CELL_TIMEOUT_S = 180.0
# Outputs are stored up to this many bytes of UTF-8; a longer one is cut and marked.
MAX_OUTPUT_BYTES = 1_000_000


class RateLimiter:
    """Spaces calls to one model evenly at `rpm` requests per minute."""

    def __init__(self, rpm: int | None) -> None:
        self.interval = 60.0 / rpm if rpm else 0.0
        self.next_at = 0.0

    async def wait(self) -> None:
        """Return when the next call to the model may go out."""
        if not self.interval:
            return
        now = time.monotonic()
        slot = max(now, self.next_at)
        self.next_at = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


class Budget:
    """Reserve an upper-bound estimate before a call; settle with the real cost after."""

    def __init__(self, cap: float | None, spent: float) -> None:
        self.cap = cap
        self.spent = spent
        self.reserved = 0.0
        self.exhausted = False

    def reserve(self, amount: float) -> bool:
        """Hold `amount` of the cap for a call; False (and exhausted from now) if it does not fit."""
        if self.cap is None:
            return True
        if self.exhausted or self.spent + self.reserved + amount > self.cap:
            self.exhausted = True
            return False
        self.reserved += amount
        return True

    def settle(self, reserved: float, actual: float | None) -> None:
        """Release a call's reservation and count what it really cost."""
        if self.cap is not None:
            self.reserved -= reserved
        self.spent += actual or 0.0


def backoff(attempt: int, retry_after: float | None, base: float, cap: float) -> float:
    """Exponential backoff with full jitter; Retry-After is a floor, not a suggestion."""
    delay = random.uniform(base, base * (2**attempt))
    if retry_after is not None and retry_after >= 0:
        delay = max(retry_after + random.uniform(0, base / 2), min(delay, retry_after * 2))
    return min(delay, cap)


class Slots:
    """A semaphore whose size can change: a worker's share of a concurrency limit.

    Shrinking never interrupts calls in flight; new ones wait until fewer are in use, and
    are let in first come, first served. A free slot is taken at once (no lock, no wait):
    every call of a run passes through two of these.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_use = 0
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def __aenter__(self) -> None:
        if self.in_use < self.limit and not self._waiting:
            self.in_use += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        self._let_in()
        try:
            await waiter  # `_let_in` counts the slot as this call's before it wakes it
        except asyncio.CancelledError:
            if waiter.cancelled():
                with contextlib.suppress(ValueError):
                    self._waiting.remove(waiter)
            else:
                self._give_back()  # let in and cancelled at once: the slot goes on
            raise

    async def __aexit__(self, *_exc: object) -> None:
        self._give_back()

    def _give_back(self) -> None:
        self.in_use -= 1
        self._let_in()

    def _let_in(self) -> None:
        while self._waiting and self.in_use < self.limit:
            waiter = self._waiting.popleft()
            if not waiter.done():
                self.in_use += 1
                waiter.set_result(None)

    @property
    def may_use(self) -> int:
        """The most that can be in use before the next resize: the limit, or more while a
        shrink still has calls in flight."""
        return max(self.limit, self.in_use)

    async def resize(self, limit: int) -> None:
        """Allow `limit` at a time from now on."""
        self.limit = limit
        self._let_in()
