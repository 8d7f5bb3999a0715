"""Migration m026: score aggregates per variant, so pages do not group every score."""

from __future__ import annotations

from sqlalchemy import Connection, text


def m026_variant_score_stats(conn: Connection) -> None:
    # Per run, variant, suite, evaluator and name: counts, passes, value sums and judge
    # cost; variant_id 0 holds the signature (count, max id of the run's scores) they match.
    conn.execute(
        text(
            """CREATE TABLE variant_score_stats (
                run_id INTEGER NOT NULL,
                variant_id INTEGER NOT NULL,
                suite TEXT NOT NULL,
                evaluator TEXT NOT NULL,
                name TEXT NOT NULL,
                signature TEXT NOT NULL,
                n INTEGER NOT NULL,
                n_passed INTEGER NOT NULL,
                value_sum DOUBLE PRECISION NOT NULL,
                value_n INTEGER NOT NULL,
                judge_cost_usd DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (run_id, variant_id, suite, evaluator, name)
            )"""
        )
    )
