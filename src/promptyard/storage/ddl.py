"""What every migration step shares: its type and the DDL that differs between databases."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

Migration = Callable[[Connection], None]


def primary_key(conn: Connection) -> str:
    """An auto-numbered integer primary key column's type, in this database's dialect."""
    return "SERIAL PRIMARY KEY" if conn.dialect.name == "postgresql" else "INTEGER PRIMARY KEY"
