"""Migration m014: the tables of online evaluation (span_score, online_cursor)."""

from __future__ import annotations

from sqlalchemy import Connection, text

from promptyard.storage.ddl import primary_key


def m014_online_eval(conn: Connection) -> None:
    # Scores of live spans by online suites, and each suite's cursor over span.id so a span
    # is scored once. No foreign key to span, like score has none to a deleted cell.
    pk = primary_key(conn)
    conn.execute(
        text(
            f"""CREATE TABLE span_score (
                id {pk},
                span_row_id INTEGER NOT NULL,
                trace_id TEXT NOT NULL,
                span_id TEXT NOT NULL,
                suite TEXT NOT NULL,
                evaluator TEXT NOT NULL,
                passed BOOLEAN,
                score DOUBLE PRECISION,
                reason TEXT,
                judge_cost_usd DOUBLE PRECISION,
                created_at TIMESTAMP NOT NULL
            )"""
        )
    )
    conn.execute(text("CREATE INDEX ix_span_score_span_row_id ON span_score (span_row_id)"))
    conn.execute(
        text("CREATE INDEX ix_span_score_suite ON span_score (suite, evaluator, created_at)")
    )
    conn.execute(
        text(
            """CREATE TABLE online_cursor (
                suite TEXT PRIMARY KEY,
                last_span_row_id INTEGER NOT NULL
            )"""
        )
    )
