"""Migration m021: playground calls in a table of their own (runs.playground_store).

A playground call used to be a run, so it took a run id (the first real run was "Run 2")
and showed in Compare and Rate. Its columns now go here, one row per column per call;
a call becomes a run only when the user saves it as one (`saved_run_id`).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from promptyard.storage.ddl import primary_key


def m021_playground_calls(conn: Connection) -> None:
    pk = primary_key(conn)
    conn.execute(
        text(
            f"""CREATE TABLE playground_call (
                id {pk},
                session_id TEXT NOT NULL,
                created_at TIMESTAMP NOT NULL,
                position INTEGER NOT NULL,
                prompt_name TEXT NOT NULL,
                prompt_sha TEXT,
                prompt_version INTEGER,
                template_text TEXT,
                model TEXT NOT NULL,
                parameters_json TEXT NOT NULL,
                inputs_json TEXT NOT NULL,
                messages_json TEXT NOT NULL,
                output TEXT,
                error_kind TEXT,
                error_message TEXT,
                prompt_tokens INTEGER,
                completion_tokens INTEGER,
                cost_usd DOUBLE PRECISION,
                latency_ms DOUBLE PRECISION,
                ttft_ms DOUBLE PRECISION,
                saved_run_id INTEGER
            )"""
        )
    )
    conn.execute(text("CREATE INDEX ix_playground_call_session ON playground_call (session_id)"))
    conn.execute(text("CREATE INDEX ix_playground_call_created ON playground_call (created_at)"))
