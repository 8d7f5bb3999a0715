"""Schema changes go through named migrations; the models and the database agree."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

from promptyard.storage import db, tables
from promptyard.storage.migrations import MIGRATIONS


def test_fresh_database_gets_every_migration(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    applied = db.migrate(engine)
    assert applied == [name for name, _ in MIGRATIONS]
    assert db.migrate(engine) == []  # idempotent


def test_old_database_gets_only_the_missing_migrations(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMP)"))
        name, first = MIGRATIONS[0]
        first(conn)
        conn.execute(text("INSERT INTO _migrations (name) VALUES (:n)"), {"n": name})
        conn.execute(
            text(
                "INSERT INTO run (name, created_at, status, slice_json, repeats, concurrency, use_cache,"
                " total_cells, cancel_requested, kind) VALUES ('kept', '2024-01-01', 'completed', '{}',"
                " 1, 1, 1, 0, 0, 'run')"
            )
        )
    applied = db.migrate(engine)
    assert applied == [name for name, _ in MIGRATIONS[1:]]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM run")).scalar_one() == "kept"


def test_models_match_the_migrated_schema(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'check.db'}")
    db.migrate(engine)
    inspector = inspect(engine)
    for table in SQLModel.metadata.sorted_tables:
        if table.name not in {t.__tablename__ for t in tables.ALL_TABLES}:
            continue
        in_db = {c["name"] for c in inspector.get_columns(table.name)}
        in_model = {c.name for c in table.columns}
        assert in_db == in_model, table.name


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    engine = db.get_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.BUSY_TIMEOUT_MS


def test_traces_tables_ignore_a_resent_span_and_keep_feedback(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'traces.db'}")
    db.migrate(engine)
    row = {
        "t": "0af7651916cd43dd8448eb211c80319c",
        "s": "b7ad6b7169203331",
        "now": "2026-01-01 00:00:00",
    }
    insert = text(
        "INSERT INTO span (trace_id, span_id, name, kind, start_ns, end_ns, duration_ms, status,"
        " is_llm, attributes_json, received_at) VALUES (:t, :s, 'chat', 'client', 1, 2, 0.000001,"
        " 'ok', 1, '{}', :now) ON CONFLICT (trace_id, span_id) DO NOTHING"
    )
    with engine.begin() as conn:
        conn.execute(insert, row)
        conn.execute(insert, row)  # re-sent: ignored, not an error
        conn.execute(
            text(
                "INSERT INTO trace_feedback (trace_id, name, value, source, created_at)"
                " VALUES (:t, 'helpful', 1, 'end_user', :now)"
            ),
            row,
        )
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM span")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM trace_feedback")).scalar_one() == 1
    indexed = {tuple(ix["column_names"]) for ix in inspect(engine).get_indexes("span")}
    assert ("prompt_name", "prompt_version") in indexed
    assert ("session_id", "start_ns") in indexed
