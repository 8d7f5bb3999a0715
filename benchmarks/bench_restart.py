"""A restart of the workbench: from exec of `scripts/start.sh --no-browser` (the install
current, so no pip) to the Home page drawn in headless Chromium.

The script runs from a copy of the repository whose `.venv` is this interpreter's
environment seen through a `.pth` file (`tests/start_overlay.py`), with its install stamp
current, as on any restart after the first. Each round: exec the script, poll the
server's health endpoint, open the page, wait until Streamlit says the script run is
over (`data-test-script-state="notRunning"`) and the Home title is on the page.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_restart.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHROMIUM = os.environ.get("PROMPTYARD_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _round(root: Path, home: Path, browser: object) -> tuple[float, float, str]:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")},
        "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT / "src")),
        "PROMPTYARD_HOME": str(home),
        "PROMPTYARD_PORT": str(port),
        "PROMPTYARD_COLLECTOR_PORT": str(_free_port()),
    }
    started = time.perf_counter()
    proc = subprocess.Popen(
        ["bash", str(root / "scripts" / "start.sh"), "--no-browser"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        url = f"http://127.0.0.1:{port}"
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.perf_counter() - started > 120:
                    raise SystemExit(f"start.sh stopped or hung: {first}") from None
                time.sleep(0.05)
        answering = time.perf_counter() - started
        page = browser.new_page(viewport={"width": 1440, "height": 900})  # type: ignore[attr-defined]
        page.goto(url)
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
        page.get_by_text("Promptyard", exact=False).first.wait_for()
        drawn = time.perf_counter() - started
        page.close()
        return answering, drawn, first
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from promptyard.versioning.init import init_workspace
    from tests.start_overlay import overlay_repo

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        root = overlay_repo(Path(tmp))
        home = init_workspace(Path(tmp) / "ws").root
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        _round(root, home, browser)  # a first start: bytecode written, database made
        rows = [_round(root, home, browser) for _ in range(args.rounds)]
        browser.close()
    print(
        f"load average {os.getloadavg()[0]:.1f}; {args.rounds} restarts; start.sh said: {rows[0][2]!r}"
    )
    print()
    print("| restart (install current) | median s | min s | max s |")
    print("|---|---:|---:|---:|")
    for label, index in (("exec to the server answering", 0), ("exec to Home drawn", 1)):
        values = [row[index] for row in rows]
        print(
            f"| {label} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} |"
        )


if __name__ == "__main__":
    main()
