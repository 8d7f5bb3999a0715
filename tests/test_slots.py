"""The resizable semaphore every call of a run passes through twice (its model's share and
the run's): never more in use than the limit, first come first served, a shrink that lets
calls in flight finish, and a cancelled waiter that takes no slot with it."""

from __future__ import annotations

import asyncio

from promptyard.runs.limits import Slots


async def _hold(slots: Slots, name: str, order: list[str], release: asyncio.Event) -> None:
    async with slots:
        order.append(name)
        await release.wait()


def test_never_more_than_the_limit_and_first_come_first_served() -> None:
    async def main() -> tuple[list[str], int]:
        slots, order, release = Slots(2), [], asyncio.Event()
        most = 0

        async def watch() -> None:
            nonlocal most
            while not release.is_set() or slots.in_use:
                most = max(most, slots.in_use)
                await asyncio.sleep(0)

        watcher = asyncio.create_task(watch())
        tasks = [asyncio.create_task(_hold(slots, f"c{i}", order, release)) for i in range(6)]
        await asyncio.sleep(0.01)
        assert order == ["c0", "c1"] and slots.in_use == 2  # the rest wait
        release.set()
        await asyncio.gather(*tasks)
        await watcher
        return order, most

    order, most = asyncio.run(main())
    assert order == [f"c{i}" for i in range(6)]
    assert most == 2


def test_growing_lets_waiters_in_and_shrinking_spares_calls_in_flight() -> None:
    async def main() -> None:
        slots, order, release = Slots(1), [], asyncio.Event()
        tasks = [asyncio.create_task(_hold(slots, f"c{i}", order, release)) for i in range(4)]
        await asyncio.sleep(0.01)
        assert order == ["c0"]
        await slots.resize(3)
        await asyncio.sleep(0.01)
        assert order == ["c0", "c1", "c2"] and slots.in_use == 3
        await slots.resize(0)  # a shrink: the three go on, nobody new gets in
        await asyncio.sleep(0.01)
        assert slots.in_use == 3 and slots.may_use == 3 and order == ["c0", "c1", "c2"]
        release.set()
        await asyncio.sleep(0.01)
        assert slots.in_use == 0 and order == ["c0", "c1", "c2"]  # c3 still waits
        await slots.resize(1)
        await asyncio.gather(*tasks)
        assert order == ["c0", "c1", "c2", "c3"] and slots.in_use == 0

    asyncio.run(main())


def test_a_cancelled_waiter_takes_no_slot_with_it() -> None:
    async def main() -> None:
        slots, order, release = Slots(1), [], asyncio.Event()
        first = asyncio.create_task(_hold(slots, "first", order, release))
        await asyncio.sleep(0.01)
        gone = asyncio.create_task(_hold(slots, "gone", order, release))
        late = asyncio.create_task(_hold(slots, "late", order, release))
        await asyncio.sleep(0.01)
        gone.cancel()
        release.set()  # the slot frees, and the cancelled one is passed over
        await asyncio.gather(first, late)
        assert gone.cancelled() and order == ["first", "late"] and slots.in_use == 0

        # Let in and cancelled in the same turn of the loop: its slot goes to the next.
        release.clear()
        await slots.__aenter__()  # this coroutine holds the one slot
        woken = asyncio.create_task(_hold(slots, "woken", order, release))
        after = asyncio.create_task(_hold(slots, "after", order, release))
        await asyncio.sleep(0.01)
        await slots.__aexit__(None, None, None)  # lets "woken" in; it has not run yet
        woken.cancel()
        release.set()
        await asyncio.gather(after, woken, return_exceptions=True)
        assert woken.cancelled() and order[-1] == "after" and "woken" not in order
        assert slots.in_use == 0

    asyncio.run(main())
