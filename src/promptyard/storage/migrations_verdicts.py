"""Migration m026: per-variant suite verdicts, so Compare's header does not read every score."""

from __future__ import annotations

from sqlalchemy import Connection, text


def m026_variant_verdicts(conn: Connection) -> None:
    # Per run and variant: cells scored by a suite, cells that passed every suite; the row
    # with variant_id 0 holds the signature (count, max id of the run's verdicts) they match.
    conn.execute(
        text(
            """CREATE TABLE variant_verdicts (
                run_id INTEGER NOT NULL,
                variant_id INTEGER NOT NULL,
                signature TEXT NOT NULL,
                scored INTEGER NOT NULL,
                passed INTEGER NOT NULL,
                PRIMARY KEY (run_id, variant_id)
            )"""
        )
    )
