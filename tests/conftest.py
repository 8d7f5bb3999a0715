"""Every test gets its own workspace, git config and database."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP_DIR = ROOT / "app"
if str(APP_DIR) not in sys.path:
    sys.path.insert(0, str(APP_DIR))

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

GITCONFIG = "[user]\n\tname = Test User\n\temail = test@example.com\n"
DATA_DIR = ".promptyard"  # the workspace's git-ignored database/cache folder
_CLEARED_ENV = ("PROMPTYARD_DATABASE_URL", "PROMPTYARD_AUTHOR_NAME", "PROMPTYARD_AUTHOR_EMAIL")


def _git_env(mp: pytest.MonkeyPatch, gitconfig: Path) -> None:
    """Point git at `gitconfig` only: no user or system config."""
    gitconfig.write_text(GITCONFIG)
    mp.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    mp.setenv("GIT_CONFIG_NOSYSTEM", "1")


# Process-wide state in the library that one test could leave behind for the next.
# (module, attribute, how to reset it). Every entry must exist: a missing module or
# attribute fails the test run, so a moved module is noticed rather than silently skipped.
# Caches of pure functions of their arguments (template compiling, token encodings, the
# litellm internals of the fast path) are cleared too: cheap to refill, and no test then
# depends on another. Not cleared: providers.price_map, the installed litellm's bundled
# price JSON, the same for every test and 25 ms to re-read in each one that prices a call.
_MODULE_STATE: tuple[tuple[str, str, str], ...] = (
    ("promptyard.models.simulator.server", "_shared", "stop-simulator"),  # ensure_simulator()
    ("promptyard.runs.playground", "_sessions", "clear"),  # playground sessions
    ("promptyard.evals", "clear_custom_cache", "call"),  # custom evaluators loaded from files
    ("promptyard.evals", "reset_plugins", "call"),  # evaluator entry points
    ("promptyard.models", "reset_providers", "call"),  # built providers, provider entry points
    ("promptyard.prompts.tokens", "encoding_name", "cache_clear"),
    ("promptyard.prompts.tokens", "_get_encoding", "cache_clear"),
    ("promptyard.prompts.render", "_compiled", "cache_clear"),
    ("promptyard.prompts.render", "variables_in_order", "cache_clear"),
    ("promptyard.prompts.cache", "forget_prompts", "call"),  # get_prompt's TTL cache
    ("promptyard.prompts.bundle", "_loaded", "clear"),  # bundles read once per process
    ("promptyard.guardrails", "reset_plugins", "call"),  # guardrail check entry points
    ("promptyard.team.identity", "_SOURCE", "clear"),  # the app's identity source (main.py)
    ("promptyard.team.roles", "_CACHE", "clear"),  # team.yaml read per file stamp
)
# Kept on purpose: models.pricing.price_map (the installed litellm's price file, the same
# for every test) and the openai clients per event loop (weakly keyed: they go with the loop).


def reset_module_state() -> None:
    """Put the library's module-level state back as a fresh process has it.

    Strict on purpose: a listed module or attribute that is gone raises, it is not skipped.
    """
    for module_name, attribute, how in _MODULE_STATE:
        module = importlib.import_module(module_name)
        value = getattr(module, attribute)
        if how == "stop-simulator":
            if value is not None:
                value.stop()
            setattr(module, attribute, None)
        elif how == "clear":
            value.clear()
        elif how == "cache_clear":
            value.cache_clear()
        elif how == "call":
            value()
        else:
            raise ValueError(f"unknown reset {how!r} for {module_name}.{attribute}")


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test touches the user's git config, workspace or database, or another test's state."""
    _git_env(monkeypatch, tmp_path / "gitconfig")
    for name in _CLEARED_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PROMPTYARD_HOME", str(tmp_path / "ws"))
    yield
    from promptyard.storage import db

    db.dispose_engines()
    reset_module_state()


@pytest.fixture(scope="session")
def _template_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`promptyard init` once per session (about 70 git processes); tests get copies."""
    from promptyard.versioning.init import init_workspace

    base = tmp_path_factory.mktemp("template")
    with pytest.MonkeyPatch.context() as mp:
        _git_env(mp, base / "gitconfig")
        for name in _CLEARED_ENV:
            mp.delenv(name, raising=False)
        root = init_workspace(base / "ws").root
    # init makes no database; should it ever, each copy must still start without one
    shutil.rmtree(root / DATA_DIR, ignore_errors=True)
    return root


@pytest.fixture
def workspace(tmp_path: Path, _template_workspace: Path):  # type: ignore[no-untyped-def]
    """A fresh workspace made by `promptyard init`: examples committed, own database.

    A copy of the session's template: its .git is self-contained, and it has no
    .promptyard/ folder, so the database is made fresh on first use, as after an init.
    """
    from promptyard.workspace import Workspace

    root = tmp_path / "ws"
    shutil.copytree(_template_workspace, root, symlinks=True)
    assert not (root / DATA_DIR).exists()
    # New inodes: refresh the index's stat data, so git sees a clean tree as after init.
    subprocess.run(["git", "update-index", "-q", "--refresh"], cwd=root, check=False)
    return Workspace(root.resolve())


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
