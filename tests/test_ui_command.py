"""`promptyard ui` serves the app, and stopping it stops the server (no orphan left)."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from promptyard.workspace import Workspace
from tests.e2e.conftest import ROOT, _wait_healthy, free_port


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def test_stopping_ui_stops_the_server(workspace: Workspace, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "ui.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "promptyard", "ui", "--port", str(port)],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_healthy(url, proc, log)
        assert _answers(url)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    deadline = time.monotonic() + 10
    while _answers(url) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _answers(url), "the Streamlit server outlived `promptyard ui`"
