"""`scripts/start.sh`: a restart skips pip when the install is current, prints the URL and
serves the workbench; a bad option is refused before anything starts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from promptyard.workspace import Workspace
from tests.start_overlay import REPO, overlay_repo


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_restart_with_a_current_install_skips_pip_and_serves_the_url(
    tmp_path: Path, workspace: Workspace
) -> None:
    root = overlay_repo(tmp_path)
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")},
        "PYTHONPATH": str(REPO / "src"),
        "PROMPTYARD_HOME": str(workspace.root),
        "PROMPTYARD_PORT": str(port),
        "PROMPTYARD_COLLECTOR_PORT": str(_free_port()),
    }
    proc = subprocess.Popen(
        ["bash", str(root / "scripts" / "start.sh"), "--no-browser"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # the script, the collector and the workbench: one group
    )
    seen: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.append(line.rstrip())
            if line.startswith("Promptyard workbench:"):
                break
        assert f"Promptyard workbench: http://127.0.0.1:{port}" in seen, seen
        assert "Promptyard is installed and current: skipping pip install" in seen, seen
        assert not any("Installing" in line for line in seen), seen
        deadline = time.monotonic() + 120
        while True:  # the workbench started from the skipped install answers
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, seen
                time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_an_unknown_option_is_refused_before_anything_starts(tmp_path: Path) -> None:
    root = overlay_repo(tmp_path)
    out = subprocess.run(
        ["bash", str(root / "scripts" / "start.sh"), "--no-brower"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 2
    assert "unknown option '--no-brower'" in out.stderr
    assert out.stdout == ""
