"""Migration m026: score aggregates per variant, so pages do not group every score, and
the generation of each run's scores they were summed at."""

from __future__ import annotations

from sqlalchemy import Connection, text


def m026_variant_score_stats(conn: Connection) -> None:
    # Per run, variant, suite, evaluator, name and whether they gave a verdict: counts, passes, value sums and judge
    # cost; variant_id 0 holds the run's score generation they were summed at.
    conn.execute(
        text(
            """CREATE TABLE variant_score_stats (
                run_id INTEGER NOT NULL,
                variant_id INTEGER NOT NULL,
                suite TEXT NOT NULL,
                evaluator TEXT NOT NULL,
                name TEXT NOT NULL,
                verdict INTEGER NOT NULL,
                signature TEXT NOT NULL,
                n INTEGER NOT NULL,
                n_passed INTEGER NOT NULL,
                value_sum DOUBLE PRECISION NOT NULL,
                value_n INTEGER NOT NULL,
                judge_cost_usd DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (run_id, variant_id, suite, evaluator, name, verdict)
            )"""
        )
    )
    # Bumped by every writer of a run's scores in the same transaction. (The count and
    # highest id of the scores would not do: SQLite reuses the ids of deleted rows, so a
    # suite scored again can end with both unchanged.)
    conn.execute(
        text(
            """CREATE TABLE score_generation (
                run_id INTEGER NOT NULL PRIMARY KEY,
                generation INTEGER NOT NULL
            )"""
        )
    )
    # Runs scored before this migration start at generation 1, so their sums are kept too.
    conn.execute(
        text(
            "INSERT INTO score_generation (run_id, generation) SELECT DISTINCT run_id, 1 FROM score"
        )
    )
