"""Claims and leases: how worker processes share one run's cells through the database.

A worker claims a batch of a lane's cells in one short transaction (on PostgreSQL with
`FOR UPDATE SKIP LOCKED`), which gives them its owner name and a lease expiry; it renews
the lease while it lives. A cell whose lease expired (its worker died) can be claimed
again. A finished cell is stored only while its worker still holds the lease (a
conditional update), so a late writer whose lease was taken over stores nothing: every
cell is recorded exactly once. The budget is reserved per claimed batch in the run row
and settled as cells are stored; concurrency is shared out in `run_worker`; rpm limits
through a schedule of call slots per model in `rate_slot`.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, literal_column, null, select, text, update
from sqlmodel import Session

from promptyard.runs.state import CELL, RUN, pid_alive
from promptyard.storage import db
from promptyard.storage.payloads import UNSTORED, claimed_messages
from promptyard.storage.tables import CellStatus, utcnow
from promptyard.storage.tables_workers import RateSlot, RunWorker
from promptyard.workspace import Workspace

WORKER = cast(Table, RunWorker.__table__)  # type: ignore[attr-defined]
RATE = cast(Table, RateSlot.__table__)  # type: ignore[attr-defined]

LEASE_ENV = "PROMPTYARD_LEASE_S"
DEFAULT_LEASE_S = 30.0
HOST_ENV = "PROMPTYARD_WORKER_HOST"  # a worker's machine name, if not the host name
HOST = os.environ.get(HOST_ENV) or socket.gethostname()
START: tuple[int, int, int] = (-1, -1, -1)  # a lane's cursor before its first claim

_CLAIMABLE = (
    "run_id = :run AND (status = :pending OR (status = :error AND execution < :execution))"
    " AND (lease_expires_at IS NULL OR lease_expires_at < :now)"
)


def lease_seconds() -> float:
    """How long a claim lasts without renewal (PROMPTYARD_LEASE_S, default 30 s)."""
    try:
        return max(0.5, float(os.environ.get(LEASE_ENV, DEFAULT_LEASE_S)))
    except ValueError:
        return DEFAULT_LEASE_S


def new_owner() -> str:
    """A worker's owner name: host, pid and a nonce, unique across machines and restarts."""
    return f"{HOST}:{os.getpid()}:{secrets.token_hex(4)}"


def owner_dead(owner: str | None) -> bool:
    """True for an owner on this machine whose process is gone (its leases can go now)."""
    if not owner:
        return False
    host, _, rest = owner.rpartition(":")[0].rpartition(":")
    return host == HOST and rest.isdigit() and not pid_alive(int(rest))


@dataclass(slots=True)
class Claimed:
    """A claimed cell: what the worker needs to send it, and where the lane's cursor is."""

    cell_id: int
    variant_id: int
    repeat: int
    messages_json: str
    position: tuple[int, int, int]  # (row_index, variant_id, repeat)


def claim_cells(
    ws: Workspace,
    run_id: int,
    owner: str,
    execution: int,
    variant_ids: Sequence[int],
    after: tuple[int, int, int],
    limit: int,
) -> list[Claimed]:
    """Claim up to `limit` of the lane's claimable cells after `after`, in row order."""
    now = time.time()

    def apply(s: Session) -> list[Claimed]:
        lock = " FOR UPDATE SKIP LOCKED" if s.get_bind().dialect.name == "postgresql" else ""
        sql = text(
            f"""UPDATE cell SET lease_owner = :owner, lease_expires_at = :until
            WHERE id IN (
                SELECT id FROM cell WHERE {_CLAIMABLE} AND variant_id IN :variants
                AND (row_index, variant_id, repeat) > (:a, :b, :c)
                ORDER BY row_index, variant_id, repeat LIMIT :n{lock}
            )
            RETURNING id, variant_id, repeat, messages_json, row_index"""
        ).bindparams(bindparam("variants", expanding=True))
        rows = s.execute(
            sql,
            {
                **_claimable_params(run_id, execution, now),
                "owner": owner,
                "until": now + lease_seconds(),
                "variants": list(variant_ids),
                "a": after[0],
                "b": after[1],
                "c": after[2],
                "n": limit,
            },
        ).all()
        out = [Claimed(r[0], r[1], r[2], r[3], (r[4], r[1], r[2])) for r in rows]
        # Cells written since m024 carry no messages: their run's run_message rows do.
        shared = [(c.variant_id, c.position[0]) for c in out if c.messages_json == UNSTORED]
        found = claimed_messages(s, run_id, shared)
        for c in out:
            if c.messages_json == UNSTORED:
                c.messages_json = found[(c.variant_id, c.position[0])]
        out.sort(key=lambda c: c.position)
        return out

    return db.write(ws, apply)


def _claimable_params(run_id: int, execution: int, now: float) -> dict[str, Any]:
    return {
        "run": run_id,
        "pending": CellStatus.PENDING,
        "error": CellStatus.ERROR,
        "execution": execution,
        "now": now,
    }


def reserve_budget(
    ws: Workspace, run_id: int, owner: str, estimates: Sequence[tuple[int, float]]
) -> int:
    """Reserve each claimed cell's estimate in order while the run's cap allows; release
    the cells that do not fit and mark the run budget-stopped. Returns how many fit."""

    def apply(s: Session) -> int:
        stmt = select(RUN.c.max_cost_usd, RUN.c.spent_usd, RUN.c.reserved_usd).where(
            RUN.c.id == run_id
        )
        cap, spent, reserved = s.execute(stmt.with_for_update()).one()
        ids = [cid for cid, _ in estimates]
        old = dict(
            s.execute(select(CELL.c.id, CELL.c.reserved_usd).where(CELL.c.id.in_(ids))).all()
        )
        total = float(spent or 0.0) + float(reserved or 0.0)
        fit = 0
        delta = 0.0
        for cid, estimate in estimates:
            change = estimate - float(old.get(cid) or 0.0)
            if cap is not None and total + change > cap:
                break
            total += change
            delta += change
            fit += 1
        if fit:
            s.execute(
                update(CELL).where(CELL.c.id == bindparam("b_id")),
                [{"b_id": cid, "reserved_usd": est} for cid, est in estimates[:fit]],
            )
        rest = ids[fit:]
        values: dict[str, Any] = {"reserved_usd": RUN.c.reserved_usd + delta}
        if rest:
            delta -= sum(float(old.get(cid) or 0.0) for cid in rest)
            values = {"reserved_usd": RUN.c.reserved_usd + delta, "budget_stopped": True}
            s.execute(_release_stmt(run_id, owner).where(CELL.c.id.in_(rest)))
        s.execute(update(RUN).where(RUN.c.id == run_id).values(**values))
        return fit

    return db.write(ws, apply)


@dataclass
class Flags:
    """What a worker learns from the run row each time it writes."""

    cancel: bool
    budget_stopped: bool


def record_cells(
    ws: Workspace,
    run_id: int,
    owner: str,
    execution: int,
    rows: Sequence[dict[str, Any]],
    reserved: dict[int, float],
) -> tuple[list[int], Flags]:
    """Store finished cells still leased to `owner`; settle their budget; beat the heartbeat.

    Returns the ids stored (a cell whose lease another worker took is not) and the flags.
    """

    def apply(s: Session) -> tuple[list[int], Flags]:
        stored: list[int] = []
        if rows:
            params = []
            for row in rows:
                values = dict(row)
                values["b_id"] = values.pop("id")
                params.append(values)
            result = s.execute(
                update(CELL)
                .where(
                    CELL.c.id == bindparam("b_id"),
                    CELL.c.lease_owner == owner,
                    CELL.c.lease_expires_at.is_not(None),
                )
                # the same for every row: in the statement, not bound (and processed) per row
                .values(
                    execution=literal_column(str(int(execution))),
                    lease_expires_at=null(),
                    reserved_usd=null(),
                ),
                params,
            )
            ids = [int(row["id"]) for row in rows]
            if getattr(result, "rowcount", -1) == len(rows):
                stored = ids
            else:  # some leases were lost (or the driver cannot count): ask which stored
                stored = list(
                    s.execute(
                        select(CELL.c.id).where(
                            CELL.c.id.in_(ids),
                            CELL.c.lease_owner == owner,
                            CELL.c.lease_expires_at.is_(None),
                            CELL.c.execution == execution,
                            CELL.c.status != CellStatus.PENDING,
                        )
                    ).scalars()
                )
        done = set(stored)
        spent = sum(float(r.get("cost_usd") or 0.0) for r in rows if r["id"] in done)
        held = sum(reserved.get(cid, 0.0) for cid in done)
        s.execute(
            update(RUN)
            .where(RUN.c.id == run_id)
            .values(
                spent_usd=RUN.c.spent_usd + spent,
                reserved_usd=RUN.c.reserved_usd - held,
                heartbeat_at=utcnow(),
            )
        )
        return stored, flags_of(s, run_id)

    return db.write(ws, apply)


def flags_of(s: Session, run_id: int) -> Flags:
    cancel, stopped = s.execute(
        select(RUN.c.cancel_requested, RUN.c.budget_stopped).where(RUN.c.id == run_id)
    ).one()
    return Flags(bool(cancel), bool(stopped))


def _release_stmt(run_id: int, owner: str) -> Any:
    return (
        update(CELL)
        .where(
            CELL.c.run_id == run_id,
            CELL.c.lease_owner == owner,
            CELL.c.lease_expires_at.is_not(None),
        )
        .values(lease_owner=None, lease_expires_at=None, reserved_usd=None)
    )


def release(ws: Workspace, run_id: int, owner: str, leave: bool = True) -> int:
    """Give back every unstored cell `owner` holds (and its reservation); with `leave`, its
    share of the run too. Returns how many cells went back."""

    def apply(s: Session) -> int:
        held = s.execute(
            select(func.coalesce(func.sum(CELL.c.reserved_usd), 0.0)).where(
                CELL.c.run_id == run_id,
                CELL.c.lease_owner == owner,
                CELL.c.lease_expires_at.is_not(None),
            )
        ).scalar()
        n = int(getattr(s.execute(_release_stmt(run_id, owner)), "rowcount", 0) or 0)
        s.execute(
            update(RUN)
            .where(RUN.c.id == run_id)
            .values(reserved_usd=RUN.c.reserved_usd - float(held or 0.0))
        )
        if leave:
            s.execute(delete(WORKER).where(WORKER.c.run_id == run_id, WORKER.c.owner == owner))
        return n

    return db.write(ws, apply)


def break_dead_leases(ws: Workspace, run_id: int) -> int:
    """Return the cells of workers on this machine whose process is gone; how many."""
    with db.session(ws) as s:
        owners = s.execute(
            select(CELL.c.lease_owner)
            .where(CELL.c.run_id == run_id, CELL.c.lease_expires_at.is_not(None))
            .distinct()
        ).scalars()
        dead = [o for o in owners if owner_dead(o)]
    return sum(release(ws, run_id, owner) for owner in dead)


def remaining(ws: Workspace, run_id: int, execution: int, variant_ids: Iterable[int]) -> int:
    """How many of the lane's cells this execution still has to store (claimed or not)."""
    with db.session(ws) as s:
        return int(
            s.execute(
                # By the lane's variants (the run's own) alone: ix_cell_stats leads with
                # variant_id and status, where run_id would walk the whole run (m024).
                select(func.count()).where(
                    CELL.c.variant_id.in_(list(variant_ids)),
                    (CELL.c.status == CellStatus.PENDING)
                    | ((CELL.c.status == CellStatus.ERROR) & (CELL.c.execution < execution)),
                )
            ).scalar()
            or 0
        )


def done_count(ws: Workspace, run_id: int, execution: int) -> int:
    """Cells ok, or stored with an error in this execution: the progress bar's 'done'."""
    with db.session(ws) as s:
        return int(
            s.execute(
                select(func.count()).where(
                    CELL.c.run_id == run_id,
                    (CELL.c.status == CellStatus.OK)
                    | ((CELL.c.status == CellStatus.ERROR) & (CELL.c.execution >= execution)),
                )
            ).scalar()
            or 0
        )


def begin_execution(ws: Workspace, run_id: int) -> tuple[int, int]:
    """Start a new execution of the run: bump its number, recount its spend and held
    reservations, clear a budget stop. Returns (execution, cells already done)."""
    break_dead_leases(ws, run_id)

    def apply(s: Session) -> int:
        spent = s.execute(
            select(func.coalesce(func.sum(CELL.c.cost_usd), 0.0)).where(
                CELL.c.run_id == run_id, CELL.c.cached.is_(False)
            )
        ).scalar()
        held = s.execute(
            select(func.coalesce(func.sum(CELL.c.reserved_usd), 0.0)).where(CELL.c.run_id == run_id)
        ).scalar()
        s.execute(
            update(RUN)
            .where(RUN.c.id == run_id)
            .values(
                execution=RUN.c.execution + 1,
                spent_usd=float(spent or 0.0),
                reserved_usd=float(held or 0.0),
                budget_stopped=False,
            )
        )
        return int(s.execute(select(RUN.c.execution).where(RUN.c.id == run_id)).scalar() or 0)

    execution = db.write(ws, apply)
    with db.session(ws) as s:
        done = s.execute(
            select(func.count()).where(CELL.c.run_id == run_id, CELL.c.status == CellStatus.OK)
        ).scalar()
    return execution, int(done or 0)


def owned_ids(ws: Workspace, run_id: int, owner: str) -> set[int]:
    """The cells of the run `owner` still holds (claimed, not stored)."""
    with db.session(ws) as s:
        return set(
            s.execute(
                select(CELL.c.id).where(
                    CELL.c.run_id == run_id,
                    CELL.c.lease_owner == owner,
                    CELL.c.lease_expires_at.is_not(None),
                )
            ).scalars()
        )
