"""Migration m016: the alerts monitors fire (monitoring.alerts reads and writes them)."""

from __future__ import annotations

from sqlalchemy import Connection, text

from promptyard.storage.ddl import primary_key


def m016_alerts(conn: Connection) -> None:
    # One row per alert: the value and its baseline, the test's p-value, the spans behind it
    # and whether its webhook got it. The webhook URL is never stored, only the outcome.
    pk = primary_key(conn)
    conn.execute(
        text(
            f"""CREATE TABLE alert (
                id {pk},
                monitor TEXT NOT NULL,
                fired_at TIMESTAMP NOT NULL,
                metric TEXT NOT NULL,
                value DOUBLE PRECISION,
                baseline DOUBLE PRECISION,
                p_value DOUBLE PRECISION,
                count INTEGER NOT NULL,
                message TEXT NOT NULL,
                filter_json TEXT NOT NULL,
                span_ids_json TEXT NOT NULL,
                delivered BOOLEAN NOT NULL,
                delivery_error TEXT
            )"""
        )
    )
    conn.execute(text("CREATE INDEX ix_alert_monitor ON alert (monitor, fired_at)"))
    conn.execute(text("CREATE INDEX ix_alert_fired_at ON alert (fired_at)"))
    # A monitor check asks when each prompt version and each provider-reported model first
    # appeared: index seeks instead of a scan of every span.
    conn.execute(
        text("CREATE INDEX ix_span_version_start ON span (prompt_name, prompt_version, start_ns)")
    )
    conn.execute(
        text("CREATE INDEX ix_span_model_start ON span (request_model, response_model, start_ns)")
    )
