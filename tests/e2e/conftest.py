"""Real-browser fixtures: `promptyard ui` on a free port, driven by Debian's Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _CLEARED_ENV, GITCONFIG

CHROMIUM = os.environ.get("PROMPTYARD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
# Not passed on to the module's server, as tests/conftest.py's isolation clears them per test
# (the server starts before that isolation applies). A module's `server_env` can set them.
_SERVER_CLEARED_ENV = (*_CLEARED_ENV, "PROMPTYARD_SIMULATOR_URL")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"promptyard ui exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"promptyard ui did not answer within {timeout}s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def server_env() -> dict[str, str | None]:
    """Environment of this module's `promptyard ui` on top of the test isolation; None
    removes a variable. A module overrides this fixture to start its server differently."""
    return {}


@pytest.fixture(scope="module")
def ui_server(
    tmp_path_factory: pytest.TempPathFactory, server_env: dict[str, str | None]
) -> Iterator[tuple[str, Path]]:
    """One `promptyard ui` for the module: (its URL, the folder it serves).

    The server is started on a real, empty folder; each test then puts its own fresh
    workspace behind that path (see `app_url`). The app resolves $PROMPTYARD_HOME on every
    script run, so each test sees its own files and database, with no new server.
    """
    base = tmp_path_factory.mktemp("ui")
    home = (base / "home").resolve()
    home.mkdir()
    gitconfig = base / "gitconfig"
    gitconfig.write_text(GITCONFIG)
    env = {k: v for k, v in os.environ.items() if k not in _SERVER_CLEARED_ENV}
    env.update(PROMPTYARD_HOME=str(home), GIT_CONFIG_GLOBAL=str(gitconfig), GIT_CONFIG_NOSYSTEM="1")
    for key, value in server_env.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    port = free_port()
    log = base / "ui.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "promptyard", "ui", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield url, home
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def app_url(workspace: Any, ui_server: tuple[str, Path]) -> str:
    """The URL of the module's `promptyard ui`, now serving this test's workspace."""
    url, home = ui_server
    if home.is_symlink():
        home.unlink()
    else:
        home.rmdir()  # the empty folder the server started on
    home.symlink_to(workspace.root, target_is_directory=True)
    return url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module.

    Playwright's sync API keeps an event loop running in this thread while it is open, so
    it must close before tests that call asyncio.run() (a session-wide browser breaks them).
    """
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/test.sh, which installs Debian's chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


# Idle: connected, no script run going, and the last action answered by a run; an action
# that starts no run (a tab, a focus click) counts as answered after QUIET_MS.
QUIET_MS = 400

# Runs in every page before the app's own code: notes when the person last acted (click,
# key, file pick) and when Streamlit's root last showed a script run starting and ending.
# Streamlit marks its root, [data-testid=stApp], with data-test-script-state (initial,
# running, notRunning, ...) and data-test-connection-state; its own browser tests wait on
# these attributes.
_IDLE_TRACKER = """
(() => {
    const idle = (window.__pyIdle = { input: 0, started: 0, ended: 0 });
    for (const type of ["pointerup", "keyup", "change"]) {
        document.addEventListener(type, () => { idle.input = performance.now(); }, true);
    }
    new MutationObserver((records) => {
        for (const r of records) {
            const state = r.target.getAttribute("data-test-script-state");
            if (state === "running") idle.started = performance.now();
            if (state === "notRunning") idle.ended = performance.now();
        }
    }).observe(document, {
        subtree: true, attributes: true, attributeFilter: ["data-test-script-state"],
    });
    window.__pyIsIdle = (quietMs) => {
        const app = document.querySelector('[data-testid="stApp"]');
        if (!app || app.getAttribute("data-test-connection-state") !== "CONNECTED") return false;
        if (app.getAttribute("data-test-script-state") !== "notRunning") return false;
        return idle.input <= idle.started || performance.now() - idle.input > quietMs;
    };
    window.__pyQuietFor = (ms) => {
        return performance.now() - Math.max(idle.input, idle.started, idle.ended) > ms;
    };
})();
"""


@pytest.fixture
def page(browser: Any, app_url: str) -> Iterator[Any]:
    """A fresh browser page (1400x900); console errors are collected on `page.errors`."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script(_IDLE_TRACKER)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()


def wait_idle(page: Any, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished the script run that the last action started."""
    page.wait_for_function("q => window.__pyIsIdle(q)", arg=QUIET_MS, timeout=timeout)


def settle(page: Any, quiet_ms: float, timeout: float = 30_000) -> None:
    """Wait until idle and nothing happened for `quiet_ms`: no action, no run starting or
    ending. For a check that something does NOT happen (a redirect, a script), which no
    event can signal; it returns as soon as the page has been quiet that long."""
    page.wait_for_function(
        "([q, ms]) => window.__pyIsIdle(q) && window.__pyQuietFor(ms)",
        arg=[QUIET_MS, quiet_ms],
        timeout=timeout,
    )


def screenshot(page: Any, name: str) -> None:
    """Save a screenshot under docs/screenshots/ when PROMPTYARD_SCREENSHOTS is set."""
    if os.environ.get("PROMPTYARD_SCREENSHOTS"):
        out = ROOT / "docs" / "screenshots" / f"{name}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out), full_page=True)
