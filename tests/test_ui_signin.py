"""`promptyard ui` before it starts: sign-in settings and the network, one line each; and
the frame guard's headers on a real server's responses."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from promptyard.cli.ui_serve import is_loopback
from promptyard.workspace import Workspace
from tests.cli import run_cli
from tests.e2e.conftest import ROOT, _wait_healthy, free_port

AUTH = """\
[auth]
redirect_uri = "http://127.0.0.1:8501/oauth2callback"
cookie_secret = "a-long-random-test-cookie-secret"
client_id = "promptyard"
client_secret = "test-secret"
server_metadata_url = "{url}"
"""


def _secrets(ws: Workspace, text: str) -> Path:
    path = ws.root / ".streamlit" / "secrets.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_beyond_loopback_without_sign_in_is_refused_with_the_reason(workspace: Workspace) -> None:
    done = run_cli("ui", "--host", "0.0.0.0", "--port", str(free_port()))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: refusing to listen on 0.0.0.0 without sign-in")
    assert "--allow-anonymous" in lines[0]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            '[auth]\nredirect_uri = "http://127.0.0.1:8501/oauth2callback"\n',
            "[auth] lacks cookie_secret",
        ),
        (AUTH.replace("a-long-random-test-cookie-secret", "short"), "cookie_secret is shorter"),
        (AUTH.replace("/oauth2callback", "/callback"), "must end in /oauth2callback"),
        (AUTH.format(url="not a url"), "server_metadata_url must be an http(s) URL"),
        ("[auth\n", "not valid TOML"),
        (AUTH.format(url="http://127.0.0.1:9/.well-known/openid-configuration"), "did not answer"),
    ],
)
def test_a_wrong_oidc_setting_is_one_line_at_start(
    workspace: Workspace, text: str, says: str
) -> None:
    path = _secrets(workspace, text)
    done = run_cli("ui", "--port", str(free_port()))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: {path}: ") and says in lines[0]


def test_loopback_addresses() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "192.168.1.4", "::", "example.com"]))


def test_every_response_forbids_framing(workspace: Workspace, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "ui.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "promptyard", "ui", "--port", str(port), "--workspace", str(workspace.root)],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_healthy(url, proc, log)
        for path in ("/", "/_stcore/health", "/prompts", "/no-such-file.js"):
            with urllib.request.urlopen(url + path, timeout=10) as response:
                assert response.headers["X-Frame-Options"] == "SAMEORIGIN", path
                assert response.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
                if path == "/":
                    assert b"<noscript>" in response.read()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_team_lists_roles_and_checks_the_file(workspace: Workspace) -> None:
    (workspace.root / "team.yaml").write_text("members:\n  Ada@Example.com: admin\n  bo: rater\n")
    done = run_cli("team")
    assert done.returncode == 0
    assert done.stdout.splitlines() == [
        "Sign-in: off (everyone local acts as admin)",
        "  admin   ada@example.com",
        "  rater   bo",
    ]
    (workspace.root / "team.yaml").write_text("members:\n  ada@example.com: owner\n")
    done = run_cli("team", "--check")
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "error: team.yaml:2: unknown role 'owner' for ada@example.com"
        " (known: admin, editor, rater, viewer)"
    )
