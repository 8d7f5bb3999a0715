"""Shares of a run's limits among its workers: concurrency split in `run_worker` rows,
each model's rpm as a schedule of call slots in `rate_slot`, and lease renewal.

A worker renews its cells' leases and takes its fair share of each limit in one short
transaction; the shares of all live workers never add up to more than the limit.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, text, update
from sqlmodel import Session

from promptyard.runs.claims import (
    CELL,
    HOST,
    RATE,
    RUN,
    WORKER,
    Flags,
    flags_of,
    lease_seconds,
    owner_dead,
)
from promptyard.storage import db
from promptyard.storage.tables import utcnow
from promptyard.workspace import Workspace

RUN_SLOTS = "*"  # the key of the run-wide concurrency in a worker's slots


@dataclass
class Renewal:
    """A worker's renewed lease: its share of the slots, whether it lost cells, the flags."""

    slots: dict[str, int]
    renewed: int
    flags: Flags


def renew(
    ws: Workspace,
    run_id: int,
    owner: str,
    limits: dict[str, int],
    hint: int,
    in_use: dict[str, int],
) -> Renewal:
    """Extend `owner`'s leases and take its fair share of each limit (never more than what
    the other live workers leave); beat the run's heartbeat."""
    now = time.time()
    until = now + lease_seconds()

    def apply(s: Session) -> Renewal:
        # One renewal of a run at a time (the run row first): shares are computed from a
        # view no other renewal is changing, and two renewals never lock in a circle.
        s.execute(select(RUN.c.id).where(RUN.c.id == run_id).with_for_update())
        renewed = s.execute(
            update(CELL)
            .where(
                CELL.c.run_id == run_id,
                CELL.c.lease_owner == owner,
                CELL.c.lease_expires_at.is_not(None),
            )
            .values(lease_expires_at=until)
        )
        s.execute(delete(WORKER).where(WORKER.c.run_id == run_id, WORKER.c.expires_at < now))
        others = [
            (o, json.loads(slots or "{}"))
            for o, slots in s.execute(
                select(WORKER.c.owner, WORKER.c.slots_json)
                .where(WORKER.c.run_id == run_id, WORKER.c.owner != owner)
                .with_for_update()
            )
        ]
        for dead, _ in [o for o in others if owner_dead(o[0])]:
            s.execute(delete(WORKER).where(WORKER.c.run_id == run_id, WORKER.c.owner == dead))
        others = [o for o in others if not owner_dead(o[0])]
        slots = fair_shares(limits, [o[1] for o in others], hint)
        held = {k: max(v, in_use.get(k, 0)) for k, v in slots.items()}
        s.execute(delete(WORKER).where(WORKER.c.run_id == run_id, WORKER.c.owner == owner))
        s.execute(
            insert(WORKER).values(
                run_id=run_id,
                owner=owner,
                host=HOST,
                pid=os.getpid(),
                slots_json=json.dumps(held),
                expires_at=until,
            )
        )
        s.execute(update(RUN).where(RUN.c.id == run_id).values(heartbeat_at=utcnow()))
        return Renewal(slots, int(getattr(renewed, "rowcount", 0) or 0), flags_of(s, run_id))

    return db.write(ws, apply)


def fair_shares(
    limits: dict[str, int], others: Sequence[dict[str, int]], hint: int
) -> dict[str, int]:
    """Each limit split evenly over the live workers (at least `hint` of them), capped by
    what the others already hold, so the sum over workers never passes the limit."""
    n = max(len(others) + 1, hint, 1)
    out = {}
    for key, limit in limits.items():
        taken = sum(int(o.get(key, 0)) for o in others)
        out[key] = max(0, min(math.ceil(limit / n), limit - taken))
    return out


def grant_rate_slots(ws: Workspace, model: str, rpm: int, count: int) -> float:
    """Take the next `count` call slots of `model` (epoch seconds of the first; the rest
    follow every 60/rpm s), shared by every worker so the model's rpm holds overall."""
    interval = 60.0 / rpm

    def apply(s: Session) -> float:
        now = time.time()
        s.execute(
            text("INSERT INTO rate_slot (model, next_at) VALUES (:m, 0) ON CONFLICT DO NOTHING"),
            {"m": model},
        )
        next_at = s.execute(
            select(RATE.c.next_at).where(RATE.c.model == model).with_for_update()
        ).scalar()
        start = max(now, float(next_at or 0.0))
        s.execute(
            update(RATE).where(RATE.c.model == model).values(next_at=start + count * interval)
        )
        return start

    return db.write(ws, apply)
