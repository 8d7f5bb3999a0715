"""SQLModel tables of the worker pool (m017): workers' shares of a run, models' rpm slots.

Kept apart from tables.py (which re-exports them in ALL_TABLES) so each module stays short.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class RunClaimColumns(SQLModel):
    """The columns of a run that many workers share (m017): a base of `Run`."""

    execution: int = 0  # bumped at each start; error cells of earlier ones are resent
    queued: bool = False  # stored for `promptyard worker` processes to claim
    spent_usd: float = 0.0  # the budget, held across workers: spent and reserved
    reserved_usd: float = 0.0
    budget_stopped: bool = False


class CellLeaseColumns(SQLModel):
    """The claim of a cell by a worker (m017): a base of `Cell`."""

    # the worker holding it; indexed while claimed only (m024: a partial index, in the migration)
    lease_owner: str | None = None
    lease_expires_at: float | None = None  # epoch seconds; None once stored or released
    execution: int = 0  # the run execution it was stored in
    reserved_usd: float | None = None  # budget held for it while claimed


class RunWorker(SQLModel, table=True):
    """A live worker of a run and its share of the run's concurrency, until `expires_at`."""

    __tablename__ = "run_worker"

    run_id: int = Field(primary_key=True)
    owner: str = Field(primary_key=True)  # host:pid:nonce, the cells' lease owner
    host: str
    pid: int
    slots_json: str = "{}"  # {"*": run slots, model name: that model's slots}
    expires_at: float = 0.0  # epoch seconds


class RateSlot(SQLModel, table=True):
    """The next free call slot (epoch seconds) of a model with an rpm limit, for every worker."""

    __tablename__ = "rate_slot"

    model: str = Field(primary_key=True)
    next_at: float = 0.0
