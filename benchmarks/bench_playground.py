"""The Playground in a real browser: from "Run all" to the first output, on a fresh server.

For each round, a fresh `promptyard ui` process (a cold server: nothing imported, nothing
warmed) serves a fresh workspace; headless Chromium opens /playground as a user would, waits
until the page is drawn, clicks "Run all", and times, from the click:

- first output: the first column showing model text (not the "…" placeholder);
- all columns: every column showing its finished numbers ("tokens" in its caption);
- texts seen: how many different texts the first output showed on its way (1: it did
  not visibly stream).

Then the page is reloaded (a new session on the now warm server) and timed the same way.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_playground.py [--rounds 3]
        [--latency-ms 0,1500] [--columns 2]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("PROMPTYARD_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# The outputs area: st.text elements below "Run all" that hold model text.
_FIRST_OUTPUT = """
() => {
  const texts = [...document.querySelectorAll('[data-testid="stText"]')]
    .map(e => e.innerText.trim()).filter(t => t && t !== "…");
  return texts.length > 0;
}
"""
_ALL_DONE = """
(n) => [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
  .filter(e => e.innerText.includes("tokens")).length >= n
"""
# Every distinct text the first output showed, to see whether it streamed.
_WATCH = """
() => {
  window.__seen = new Set();
  const tick = () => {
    const t = [...document.querySelectorAll('[data-testid="stText"]')]
      .map(e => e.innerText.trim()).filter(t => t && t !== "…");
    if (t.length) window.__seen.add(t[0]);
    window.__watch = requestAnimationFrame(tick);
  };
  tick();
}
"""
_IDLE = """
() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app && app.getAttribute("data-test-script-state") === "notRunning";
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _workspace(base: Path, env: dict[str, str]) -> Path:
    root = base / "ws"
    subprocess.run(
        [sys.executable, "-m", "promptyard", "init", str(root)],
        check=True,
        env=env,
        capture_output=True,
    )
    return root


def _server(root: Path, env: dict[str, str], latency_ms: int, log: Path) -> tuple[Any, str]:
    port = _free_port()
    server_env = {**env, "PROMPTYARD_HOME": str(root)}
    server_env.pop("PROMPTYARD_SIMULATOR_URL", None)
    server_env["PROMPTYARD_SIMULATOR_LATENCY_MS"] = str(latency_ms)
    out = open(log, "wb")  # noqa: SIM115 - closed when the process ends
    proc = subprocess.Popen(
        [sys.executable, "-m", "promptyard", "ui", "--port", str(port)],
        cwd=ROOT,
        env=server_env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"no server: {log.read_text()}")


def _time_run(page: Any, columns: int) -> tuple[float, float, int]:
    page.wait_for_function(_IDLE, timeout=60_000)
    page.evaluate(_WATCH)
    t0 = time.perf_counter()
    page.get_by_role("button", name="Run all").click()
    page.wait_for_function(_FIRST_OUTPUT, timeout=120_000, polling=20)
    first = time.perf_counter() - t0
    page.wait_for_function(_ALL_DONE, arg=columns, timeout=120_000, polling=20)
    done = time.perf_counter() - t0
    return first, done, int(page.evaluate("window.__seen.size"))


def one_round(browser: Any, latency_ms: int, columns: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        gitconfig = base / "gitconfig"
        gitconfig.write_text("[user]\n\tname = Bench\n\temail = bench@example.com\n")
        env = {
            **os.environ,
            "GIT_CONFIG_GLOBAL": str(gitconfig),
            "GIT_CONFIG_NOSYSTEM": "1",
            "PYTHONPATH": str(ROOT / "src"),
        }
        root = _workspace(base, env)
        proc, url = _server(root, env, latency_ms, base / "ui.log")
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            t_open = time.perf_counter()
            page.goto(f"{url}/playground")
            page.get_by_role("button", name="Run all").wait_for(timeout=90_000)
            page.wait_for_function(_IDLE, timeout=60_000)
            drawn = time.perf_counter() - t_open
            cold_first, cold_all, steps = _time_run(page, columns)
            # a new browser session on the warm server: the outputs area starts empty
            page.reload()
            page.get_by_role("button", name="Run all").wait_for(timeout=90_000)
            warm_first, warm_all, _ = _time_run(page, columns)
            page.close()
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return {
        "page": drawn,
        "cold_first": cold_first,
        "cold_all": cold_all,
        "warm_first": warm_first,
        "warm_all": warm_all,
        "steps": steps,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-ms", default="0,1500")
    parser.add_argument("--columns", type=int, default=2)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print(
        "| simulator latency | round | page drawn (s) | fresh server: first output (s) "
        "| fresh: all columns (s) | texts seen while streaming | warm server: first output (s) "
        "| warm: all (s) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for latency in [int(x) for x in args.latency_ms.split(",")]:
            for r in range(1, args.rounds + 1):
                m = one_round(browser, latency, args.columns)
                print(
                    f"| {latency} ms | {r} | {m['page']:.2f} | {m['cold_first']:.2f} | "
                    f"{m['cold_all']:.2f} | {m['steps']} | {m['warm_first']:.2f} | {m['warm_all']:.2f} |",
                    flush=True,
                )
        browser.close()


if __name__ == "__main__":
    main()
