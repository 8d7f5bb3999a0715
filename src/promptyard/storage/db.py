"""The database: engine, sessions, migrations, and the one place writes go through.

SQLite by default (`.promptyard/promptyard.db`, WAL, a busy timeout); any SQLAlchemy URL
through `PROMPTYARD_DATABASE_URL`. Never hold a transaction open across a model call.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, create_engine

from promptyard.disk_errors import disk_error
from promptyard.errors import PromptyardError
from promptyard.storage.migrations import MIGRATIONS
from promptyard.workspace import Workspace

T = TypeVar("T")
BUSY_TIMEOUT_MS = 30_000
_WRITE_OPTION = "promptyard_write"

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()
_write_locks: dict[str, threading.Lock] = {}


def _on_sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # isolation_level=None lets us issue BEGIN (IMMEDIATE for writes) ourselves.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _on_sqlite_begin(conn: Any) -> None:
    immediate = conn.get_execution_options().get(_WRITE_OPTION)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class StorageError(PromptyardError):
    """The database cannot be opened, read or written: corrupt, unreadable, read-only, or
    its disk is full. The message says which file and what to do; nothing was changed."""


# What SQLite says, and what a person should do about it.
_SQLITE_PROBLEMS = (
    (("file is not a database", "malformed", "not a database"),
     "is corrupt or not a SQLite database: move it aside (Promptyard then starts a fresh"
     " one) or put back a backup"),
    (("readonly database", "read-only"),
     "is read-only: make it and its folder writable, or work in a writable copy"),
    (("database or disk is full", "disk is full"),
     "cannot grow, the disk is full: free some space and try again"),
    (("unable to open database file", "disk i/o error", "authorization denied"),
     "cannot be opened or read: check that it and its folder exist and are readable and"
     " writable by you"),
)  # fmt: skip


_NEARLY_FULL = 1 << 20  # bytes free under which a failed write is put down to a full disk


def _storage_error(exc: DBAPIError, url: str) -> StorageError | None:
    """A StorageError for a database that cannot be used; None for any other error."""
    if isinstance(exc, IntegrityError):
        return None
    reason = str(exc.orig) if exc.orig is not None else str(exc)
    lowered = reason.lower()
    parsed = make_url(url)
    where = parsed.database if parsed.get_backend_name() == "sqlite" else parsed.render_as_string()
    for needles, advice in _SQLITE_PROBLEMS:
        if any(n in lowered for n in needles):
            folder = Path(where or ".").parent
            corrupt = needles is _SQLITE_PROBLEMS[0][0]
            if not corrupt and folder.is_dir():
                # SQLite often says only "disk I/O error": look at the disk itself.
                if not os.access(folder, os.W_OK):  # a read-only mount says no, even to root
                    advice = (
                        f"cannot be written: its folder {folder} is read-only (a read-only"
                        " file system or no write permission); make it writable, or work in"
                        " a writable copy"
                    )
                elif shutil.disk_usage(folder).free < _NEARLY_FULL:
                    advice = _SQLITE_PROBLEMS[2][1]
            return StorageError(f"the database {where} {advice} (SQLite: {reason})")
    return None


@contextmanager
def _plain_errors(url: str, opening: bool = False) -> Iterator[None]:
    """Turn a database that cannot be used into a StorageError; other errors pass.

    `opening`: an OSError too (making the database's folder), as a DiskError.
    """
    try:
        yield
    except DBAPIError as exc:
        found = _storage_error(exc, url)
        if found is None:
            raise
        raise found from None
    except OSError as exc:
        if not opening:
            raise
        raise disk_error(exc, "opening the database") from None


def _url(workspace: Workspace | str) -> str:
    return workspace if isinstance(workspace, str) else workspace.database_url


def _make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
        )
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


def get_engine(workspace: Workspace | str) -> Engine:
    """The migrated engine for a workspace (or a URL), made once per process."""
    url = _url(workspace)
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            with _plain_errors(url, opening=True):
                engine = _make_engine(url)
                try:
                    migrate(engine)
                except BaseException:
                    engine.dispose()
                    raise
            _engines[url] = engine
            _write_locks[url] = threading.Lock()
        return engine


def dispose_engines() -> None:
    """Close every pooled connection (tests, and before a fork)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _write_locks.clear()


@contextmanager
def session(workspace: Workspace | str) -> Iterator[Session]:
    """A session for reads (and small writes that commit themselves).

    A database that cannot be used (corrupt, unreadable, read-only, disk full) raises
    StorageError, one line saying what to do.
    """
    engine = get_engine(workspace)
    with _plain_errors(_url(workspace)), Session(engine, expire_on_commit=False) as s:
        yield s


def write(workspace: Workspace | str, fn: Callable[[Session], T]) -> T:
    """Run `fn(session)` as one write transaction and commit it.

    In this process, writes to one database go one at a time; on SQLite the transaction
    starts with BEGIN IMMEDIATE so a writer in another process waits (busy timeout)
    instead of failing half-way.
    """
    engine = get_engine(workspace)
    url = _url(workspace)
    with _plain_errors(url), _write_locks[url], engine.connect() as conn:
        conn = conn.execution_options(**{_WRITE_OPTION: True})
        with Session(bind=conn, expire_on_commit=False) as s:
            result = fn(s)
            s.commit()
        conn.commit()
        return result


def applied_migrations(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        if not inspect(conn).has_table("_migrations"):
            return []
        rows = conn.execute(text("SELECT name FROM _migrations ORDER BY name"))
        return [r[0] for r in rows]


def migrate(engine: Engine) -> list[str]:
    """Apply the migrations this database lacks, in order; return the names applied."""
    done_now: list[str] = []
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMP)"
            )
        )
        done = {r[0] for r in conn.execute(text("SELECT name FROM _migrations"))}
        for name, fn in MIGRATIONS:
            if name in done:
                continue
            fn(conn)
            conn.execute(
                text("INSERT INTO _migrations (name, applied_at) VALUES (:n, :t)"),
                {"n": name, "t": datetime.now(UTC).replace(tzinfo=None)},
            )
            done_now.append(name)
    return done_now
