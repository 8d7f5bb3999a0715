"""Migration m020: how a run filled its prompts' variables (runs.mapping reads and writes it)."""

from __future__ import annotations

from sqlalchemy import Connection, text


def m020_run_mapping(conn: Connection) -> None:
    # JSON {"columns": {var: column}, "constants": {var: value}, "samples": bool}; NULL: every
    # variable was the dataset column of its name.
    conn.execute(text("ALTER TABLE run ADD COLUMN mapping_json TEXT"))
