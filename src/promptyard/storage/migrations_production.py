"""Migration steps for the tables of production traffic: spans, feedback, their indexes.

A step never changes once it has shipped; `migrations.MIGRATIONS` lists every step in order.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from promptyard.storage.ddl import primary_key


def m012_traces(conn: Connection) -> None:
    # Spans received over OTLP (promptyard collect) and end users' feedback on traces.
    # A re-sent span is ignored through the unique (trace_id, span_id) index.
    conn.execute(
        text(
            f"""CREATE TABLE span (
                id {primary_key(conn)},
                trace_id TEXT NOT NULL,
                span_id TEXT NOT NULL,
                parent_span_id TEXT,
                name TEXT NOT NULL,
                kind TEXT NOT NULL,
                service_name TEXT,
                start_ns BIGINT NOT NULL,
                end_ns BIGINT NOT NULL,
                duration_ms DOUBLE PRECISION NOT NULL,
                status TEXT NOT NULL,
                status_message TEXT,
                is_llm BOOLEAN NOT NULL,
                system TEXT,
                operation TEXT,
                request_model TEXT,
                response_model TEXT,
                input_tokens INTEGER,
                output_tokens INTEGER,
                cost_usd DOUBLE PRECISION,
                ttft_ms DOUBLE PRECISION,
                input_messages_json TEXT,
                output_messages_json TEXT,
                output_text TEXT,
                parameters_json TEXT,
                finish_reasons_json TEXT,
                prompt_name TEXT,
                prompt_version INTEGER,
                prompt_sha TEXT,
                prompt_label TEXT,
                prompt_variables_json TEXT,
                prompt_link TEXT,
                user_id TEXT,
                session_id TEXT,
                attributes_json TEXT NOT NULL,
                events_json TEXT,
                resource_json TEXT,
                received_at TIMESTAMP NOT NULL
            )"""
        )
    )
    conn.execute(text("CREATE UNIQUE INDEX ux_span_identity ON span (trace_id, span_id)"))
    conn.execute(text("CREATE INDEX ix_span_start_ns ON span (start_ns)"))
    conn.execute(text("CREATE INDEX ix_span_trace_id ON span (trace_id)"))
    conn.execute(text("CREATE INDEX ix_span_prompt ON span (prompt_name, prompt_version)"))
    conn.execute(text("CREATE INDEX ix_span_user ON span (user_id, start_ns)"))
    conn.execute(text("CREATE INDEX ix_span_session ON span (session_id, start_ns)"))
    conn.execute(text("CREATE INDEX ix_span_llm ON span (is_llm, start_ns)"))
    conn.execute(
        text(
            f"""CREATE TABLE trace_feedback (
                id {primary_key(conn)},
                trace_id TEXT NOT NULL,
                span_id TEXT,
                name TEXT NOT NULL,
                value DOUBLE PRECISION,
                value_text TEXT,
                comment TEXT,
                source TEXT NOT NULL,
                created_at TIMESTAMP NOT NULL
            )"""
        )
    )
    conn.execute(text("CREATE INDEX ix_trace_feedback_trace_id ON trace_feedback (trace_id)"))


def m013_trace_indexes(conn: Connection) -> None:
    # The Traces list filters by model, label and status, newest first: without these a
    # value no span has walks every span (0.7 s at a million), with them it is a look-up.
    conn.execute(text("CREATE INDEX ix_span_request_model ON span (request_model, start_ns)"))
    conn.execute(text("CREATE INDEX ix_span_response_model ON span (response_model, start_ns)"))
    conn.execute(text("CREATE INDEX ix_span_label ON span (prompt_label, start_ns)"))
    conn.execute(text("CREATE INDEX ix_span_status ON span (status, start_ns)"))


def m015_monitoring_indexes(conn: Connection) -> None:
    # The Monitoring page's change markers: the first start of each prompt version and of
    # each provider-reported model come from a covering index, without reading the rows.
    conn.execute(
        text(
            "CREATE INDEX ix_span_prompt_start"
            " ON span (is_llm, prompt_name, prompt_version, start_ns)"
        )
    )
    conn.execute(
        text("CREATE INDEX ix_span_llm_response_model ON span (is_llm, response_model, start_ns)")
    )
