"""Every test gets its own workspace, git config and database."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP_DIR = ROOT / "app"
if str(APP_DIR) not in sys.path:
    sys.path.insert(0, str(APP_DIR))

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test touches the user's git config, workspace or database."""
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Test User\n\temail = test@example.com\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("PROMPTYARD_DATABASE_URL", raising=False)
    monkeypatch.delenv("PROMPTYARD_AUTHOR_NAME", raising=False)
    monkeypatch.delenv("PROMPTYARD_AUTHOR_EMAIL", raising=False)
    monkeypatch.setenv("PROMPTYARD_HOME", str(tmp_path / "ws"))
    yield
    from promptyard.storage import db

    db.dispose_engines()


@pytest.fixture
def workspace(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A fresh workspace made by `promptyard init`: examples committed, own database."""
    from promptyard.versioning.init import init_workspace

    return init_workspace(tmp_path / "ws")


@pytest.fixture
def empty_workspace(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A workspace folder in a fresh git repository with nothing in it yet."""
    import git

    from promptyard.workspace import Workspace

    root = tmp_path / "ws"
    root.mkdir()
    git.Repo.init(root, initial_branch="main")
    return Workspace(root.resolve())


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A simulator of this test's own (5 ms latency), on a free port of 127.0.0.1.

    Simulated models resolve to it in this process and in the processes it starts.
    """
    from promptyard.models import start_simulator

    handle = start_simulator(latency_ms=5)
    monkeypatch.setenv("PROMPTYARD_SIMULATOR_URL", handle.url)
    yield handle
    handle.faults.clear()
    handle.stop()


@pytest.fixture
def postgres_url():  # type: ignore[no-untyped-def]
    """A fresh, empty PostgreSQL database for this test, dropped afterwards.

    scripts/test.sh starts a throwaway server and sets PROMPTYARD_TEST_POSTGRES_URL.
    """
    import uuid

    import sqlalchemy as sa

    server = os.environ.get("PROMPTYARD_TEST_POSTGRES_URL")
    if not server:
        pytest.skip("PROMPTYARD_TEST_POSTGRES_URL is not set (scripts/test.sh sets it)")
    name = f"py_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
    from promptyard.storage import db

    db.dispose_engines()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()
