"""Migration m017: claims and leases, so many worker processes share one run's cells.

A cell gets an owner and a lease expiry (epoch seconds) while a worker holds it, the
execution it was last stored in, and the budget reserved for it; a run gets its execution
counter, its queued flag and its spend and reservations, held in the database across every
worker. `run_worker` holds each live worker's share of a run's concurrency; `rate_slot` the
next free call slot of each model with an rpm limit (a token schedule shared by all).
"""

from __future__ import annotations

from sqlalchemy import Connection, text


def m017_workers(conn: Connection) -> None:
    for statement in (
        "ALTER TABLE run ADD COLUMN execution INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE run ADD COLUMN queued BOOLEAN NOT NULL DEFAULT FALSE",
        "ALTER TABLE run ADD COLUMN spent_usd DOUBLE PRECISION NOT NULL DEFAULT 0",
        "ALTER TABLE run ADD COLUMN reserved_usd DOUBLE PRECISION NOT NULL DEFAULT 0",
        "ALTER TABLE run ADD COLUMN budget_stopped BOOLEAN NOT NULL DEFAULT FALSE",
        "ALTER TABLE cell ADD COLUMN lease_owner TEXT",
        "ALTER TABLE cell ADD COLUMN lease_expires_at DOUBLE PRECISION",
        "ALTER TABLE cell ADD COLUMN execution INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE cell ADD COLUMN reserved_usd DOUBLE PRECISION",
        # A worker renews, releases and checks its own cells by owner.
        "CREATE INDEX ix_cell_lease_owner ON cell (lease_owner)",
        """CREATE TABLE run_worker (
            run_id INTEGER NOT NULL,
            owner TEXT NOT NULL,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            slots_json TEXT NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (run_id, owner)
        )""",
        """CREATE TABLE rate_slot (
            model TEXT PRIMARY KEY,
            next_at DOUBLE PRECISION NOT NULL
        )""",
    ):
        conn.execute(text(statement))
