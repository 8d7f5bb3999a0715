"""Sign-in end to end: Chromium, `promptyard ui` and a real OpenID Connect provider on
127.0.0.1 (oidc-provider-mock): sign in, rate as yourself, sign out, a stranger refused,
a rater who sees only Rate, and the frame guard's headers on the page's response."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import werkzeug.serving
from oidc_provider_mock import User
from oidc_provider_mock import app as oidc_app

from promptyard import ratings
from promptyard.workspace import Workspace
from tests.conftest import _CLEARED_ENV, GITCONFIG
from tests.e2e.conftest import ROOT, _wait_healthy, free_port, screenshot, wait_idle
from tests.ratings_seed import seed_run

pytestmark = pytest.mark.e2e

TEAM = "members:\n  ada@example.com: admin\n  rae@example.com: rater\n"
PEOPLE = [
    User(sub="ada@example.com", claims={"email": "ada@example.com", "name": "Ada Admin"}),
    User(sub="rae@example.com", claims={"email": "rae@example.com", "name": "Rae Rater"}),
]


@contextmanager
def _provider(token_age: timedelta = timedelta(hours=1)) -> Iterator[str]:
    """A real OpenID Connect provider on 127.0.0.1; its base URL."""
    app = oidc_app(user_claims=PEOPLE, access_token_max_age=token_age)
    server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


@contextmanager
def _ui(base: Path, template: Path, provider: str) -> Iterator[tuple[str, Workspace]]:
    """`promptyard ui` with sign-in on, over a workspace with a team: (URL, workspace)."""
    root = base / "ws"
    shutil.copytree(template, root, symlinks=True)
    gitconfig = base / "gitconfig"
    gitconfig.write_text(GITCONFIG)
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED_ENV}
    env.update(PROMPTYARD_HOME=str(root), GIT_CONFIG_GLOBAL=str(gitconfig), GIT_CONFIG_NOSYSTEM="1")
    git = {"cwd": root, "env": env, "check": True, "capture_output": True}
    subprocess.run(["git", "update-index", "-q", "--refresh"], **git)  # type: ignore[call-overload]
    (root / "team.yaml").write_text(TEAM)
    subprocess.run(["git", "add", "team.yaml"], **git)  # type: ignore[call-overload]
    subprocess.run(["git", "commit", "-qm", "Add the team"], **git)  # type: ignore[call-overload]
    port = free_port()
    (root / ".streamlit").mkdir()
    (root / ".streamlit" / "secrets.toml").write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "an-e2e-cookie-secret-long-enough"\n'
        'client_id = "promptyard"\n'
        'client_secret = "e2e-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    log = base / "ui.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "promptyard", "ui", "--port", str(port), "--workspace", str(root)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield url, Workspace(root.resolve())
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def signed_in_ui(
    tmp_path_factory: pytest.TempPathFactory, _template_workspace: Path
) -> Iterator[tuple[str, Workspace]]:
    with (
        _provider() as provider,
        _ui(tmp_path_factory.mktemp("signin"), _template_workspace, provider) as ui,
    ):
        yield ui


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies: nobody signed in) and its page."""
    from tests.e2e.conftest import _IDLE_TRACKER

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_init_script(_IDLE_TRACKER)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def _sign_in(page: Any, url: str, who: str) -> None:
    page.goto(url)
    wait_idle(page)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/oauth2/authorize.*"))
    known = page.locator(f'button[name="sub"][value="{who}"]')
    if known.count():
        known.click()
    else:
        page.locator('input[name="sub"]').fill(who)
        page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(re.escape(url) + r"/?(\?.*)?$"))
    wait_idle(page)


def test_sign_in_rate_as_yourself_and_sign_out(
    signed_in_ui: tuple[str, Workspace], tab: Any
) -> None:
    url, ws = signed_in_ui
    response = tab.goto(url)
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert response.headers["content-security-policy"] == "frame-ancestors 'self'"
    wait_idle(tab)
    assert tab.get_by_text("Sign in to use this workbench").is_visible()
    assert tab.get_by_role("link", name="Prompts").count() == 0  # nothing but the sign-in

    seeded = seed_run(ws, rows=2)
    session = ratings.open_session(ws, seeded.run_id, "rate", "quality", 1)
    _sign_in(tab, url, "ada@example.com")
    sidebar = tab.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text(re.compile(r"Signed in as Ada Admin · admin")).wait_for()
    screenshot(tab, "signin-home")
    tab.get_by_role("link", name="Rate").first.click()
    wait_idle(tab)
    tab.get_by_text("Rating as ada@example.com").wait_for()
    assert tab.get_by_role("textbox", name="Your name").count() == 0
    tab.get_by_text("Keys:").first.wait_for()
    tab.evaluate("document.activeElement && document.activeElement.blur()")
    tab.keyboard.press("4")  # the labeling keys: 4 rates the cell and moves on
    wait_idle(tab)
    assert session.id is not None
    done: list[tuple[str, int]] = []
    for _ in range(50):  # the fragment stores the rating as it redraws
        done = [(p.rater, p.done) for p in ratings.rater_progress(ws, session.id)]
        if done:
            break
        time.sleep(0.2)
    assert done == [("ada@example.com", 1)]

    sidebar.get_by_role("button", name="Sign out").click()
    end = tab.get_by_role("button", name="End session")
    end.or_(tab.get_by_text("Sign in to use this workbench")).first.wait_for()
    if end.count():  # the provider asks before it ends its own session
        end.click()
    tab.get_by_text("Sign in to use this workbench").wait_for()
    tab.goto(url + "/rate")
    wait_idle(tab)
    assert tab.get_by_text("Sign in to use this workbench").is_visible()
    assert tab.get_by_text("Rating as").count() == 0


def test_an_unknown_user_is_refused(signed_in_ui: tuple[str, Workspace], tab: Any) -> None:
    url, _ = signed_in_ui
    _sign_in(tab, url, "mallory@example.com")
    tab.get_by_text(
        re.compile(r"mallory@example.com is not a member of this workspace's team")
    ).wait_for()
    assert tab.get_by_role("link", name="Prompts").count() == 0
    assert tab.get_by_role("button", name="Sign out").is_visible()


def test_a_rater_sees_only_rate_and_their_queue(
    signed_in_ui: tuple[str, Workspace], tab: Any
) -> None:
    url, ws = signed_in_ui
    seeded = seed_run(ws, rows=1, name="for rae")
    session = ratings.open_session(ws, seeded.run_id, "rate", "thumbs", 1)
    assert session.id is not None
    ratings.assign_raters(ws, session.id, ["rae@example.com"])
    _sign_in(tab, url, "rae@example.com")
    tab.get_by_text("Your queue").wait_for()
    tab.get_by_text(re.compile(rf"Session #{session.id} · run #{seeded.run_id} for rae")).wait_for()
    # Rate is the one page a rater has: no navigation, and no page that names the models
    assert tab.locator('[data-testid="stSidebarNav"] a').count() == 0
    assert tab.get_by_role("heading", name="⭐ Rate").is_visible()
    screenshot(tab, "signin-rater")
    tab.goto(url + "/compare")
    wait_idle(tab)
    tab.get_by_role("heading", name="⭐ Rate").wait_for()
    assert tab.get_by_role("heading", name="🔍 Compare").count() == 0


TOKEN_AGE_S = 15


def test_an_ended_sign_in_keeps_the_text_and_signs_in_again(
    tmp_path_factory: pytest.TempPathFactory, _template_workspace: Path, tab: Any
) -> None:
    with (
        _provider(timedelta(seconds=TOKEN_AGE_S)) as provider,
        _ui(tmp_path_factory.mktemp("expiry"), _template_workspace, provider) as (url, ws),
    ):
        _sign_in(tab, url, "ada@example.com")
        signed_in_at = time.time()  # after the token was issued
        tab.get_by_role("link", name="Settings").click()
        wait_idle(tab)
        message = tab.get_by_placeholder("e.g. add a tone scheme")
        message.fill("a draft that must survive")
        message.press("Enter")
        wait_idle(tab)
        # Past the ID token's end (the provider's token age), with a second to spare.
        tab.wait_for_timeout(max(0.0, signed_in_at + TOKEN_AGE_S + 1 - time.time()) * 1000)
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ws.root, capture_output=True, text=True
        ).stdout
        tab.get_by_role("button", name="Save schemes").click()
        wait_idle(tab)
        tab.get_by_text(re.compile(r"the sign-in of ada@example.com ended at")).wait_for()
        tab.get_by_text("Your sign-in has ended").wait_for()
        assert message.input_value() == "a draft that must survive"
        assert (
            subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=ws.root, capture_output=True, text=True
            ).stdout
            == head
        ), "an ended sign-in saved"
        screenshot(tab, "signin-ended")

        tab.get_by_role("button", name="Sign in again").click()
        tab.wait_for_url(re.compile(r".*/oauth2/authorize.*"))
        tab.locator('button[name="sub"][value="ada@example.com"]').click()
        tab.get_by_placeholder("e.g. add a tone scheme").wait_for()
        wait_idle(tab)
        assert tab.get_by_placeholder("e.g. add a tone scheme").input_value() == (
            "a draft that must survive"
        )
        assert tab.get_by_text("Your sign-in has ended").count() == 0


def test_another_site_cannot_frame_the_workbench(
    signed_in_ui: tuple[str, Workspace], tab: Any, tmp_path: Path
) -> None:
    import functools
    import http.server

    url, _ = signed_in_ui
    (tmp_path / "evil.html").write_text(f'<iframe id="w" src="{url}/" width="800"></iframe>')
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=other.serve_forever, daemon=True)
    thread.start()
    try:
        blocked = []
        tab.on("console", lambda m: blocked.append(m.text) if "frame-ancestors" in m.text else None)
        with tab.expect_console_message(lambda m: "frame-ancestors" in m.text):
            tab.goto(f"http://127.0.0.1:{other.server_port}/evil.html")
        frame = tab.frame_locator("#w")
        assert frame.locator('[data-testid="stApp"]').count() == 0
        assert blocked and "The request has been blocked" in blocked[0]
    finally:
        other.shutdown()
        thread.join(10)
