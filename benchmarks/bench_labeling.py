"""How fast keyboard labeling is in a real browser: from a key press to the next cell drawn.

Seeds a workspace (init + one completed run of ROWS rows x 2 variants), starts
`promptyard ui` on it, opens the Rate page in headless Chromium (the flags of
tests/e2e/conftest.py), opens a labeling session and presses digit keys. Each press is
timed in the page: from the keydown event to the animation frame in which the next
cell's output is in the page. Then the same for S (skip), U (undo), ← and →.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_labeling.py [--rows 100 10000] [--presses 40]

Prints a table; the numbers go in docs/benchmarks.md ("## Keyboard labeling").
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from promptyard import ratings  # noqa: E402
from promptyard.versioning.init import init_workspace  # noqa: E402
from tests.e2e.conftest import _IDLE_TRACKER, CHROMIUM, CHROMIUM_ARGS, QUIET_MS, free_port  # noqa: E402
from tests.ratings_seed import default_output, seed_run  # noqa: E402

# Notes the time of every keydown, before Streamlit's own handlers see it.
KEY_CLOCK = (
    "document.addEventListener('keydown', () => { window.__kd = performance.now(); }, true);"
)
# Resolves in the first animation frame where `text` is an st.text of the page.
DRAWN = """
(text) => new Promise((resolve, reject) => {
    const give_up = performance.now() + 60000;
    const look = () => {
        if (performance.now() > give_up) return reject(new Error("not drawn: " + text));
        for (const el of document.querySelectorAll('[data-testid="stText"]')) {
            if (el.innerText.trim() === text) return resolve(performance.now() - window.__kd);
        }
        requestAnimationFrame(look);
    };
    look();
})
"""


def _server(home: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "promptyard", "ui", "--port", str(port)],
        cwd=ROOT,
        env={**env, "PROMPTYARD_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("promptyard ui did not start within 60 s")


def _idle(page: Any) -> None:
    page.wait_for_function("q => window.__pyIsIdle(q)", arg=QUIET_MS, timeout=60_000)


def _press(page: Any, key: str, expect: str) -> float:
    page.evaluate("() => { window.__kd = 1e12; }")  # no press timed yet
    page.keyboard.press(key)
    ms = float(page.evaluate(DRAWN, expect))
    _idle(page)
    return ms


def measure(
    rows: int, presses: int, tmp: Path, browser: Any, env: dict[str, str]
) -> list[tuple[str, list[float]]]:
    root = tmp / f"ws{rows}"
    os.environ["PROMPTYARD_HOME"] = str(root)
    ws = init_workspace(root)
    seeded = seed_run(ws, rows=rows)
    ratings.open_session(ws, seeded.run_id, "rate", "quality")
    proc, url = _server(root, env)
    try:
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.add_init_script(_IDLE_TRACKER)
        context.add_init_script(KEY_CLOCK)
        page = context.new_page()
        page.goto(f"{url}/rate")
        _idle(page)
        page.get_by_role("textbox", name="Your name").fill("bench")
        page.keyboard.press("Enter")
        _idle(page)
        page.evaluate("document.activeElement && document.activeElement.blur()")
        page.get_by_text(default_output(0, 0, 0), exact=True).wait_for(timeout=60_000)
        page.get_by_text("Keys:").first.wait_for()
        _idle(page)
        order = [(r, v) for r in range(rows) for v in range(2)]
        out = lambda i: default_output(*order[i], 0)  # noqa: E731
        rate: list[float] = []
        for i in range(presses):
            rate.append(_press(page, str(1 + i % 5), out(i + 1)))
        at = presses
        skip = [_press(page, "S", out(at + 1))]
        back = [_press(page, "ArrowLeft", out(at - 1))]
        forward = [_press(page, "ArrowRight", out(at + 1))]  # the skipped cell waits for the end
        undo = [_press(page, "U", out(at - 1))]
        nav = [*skip, *back, *forward, *undo]
        context.close()
        return [("rate (digit key)", rate), ("skip / ← / → / undo", nav)]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100, 10_000])
    parser.add_argument("--presses", type=int, default=40)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="bench-labeling-"))
    gitconfig = tmp / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Bench\n\temail = bench@example.com\n")
    os.environ.update(GIT_CONFIG_GLOBAL=str(gitconfig), GIT_CONFIG_NOSYSTEM="1")
    env = dict(os.environ)
    table = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            for rows in args.rows:
                for label, times in measure(rows, args.presses, tmp, browser, env):
                    ordered = sorted(times)
                    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
                    table.append(
                        (
                            f"{rows * 2:,} cells",
                            label,
                            len(times),
                            statistics.median(times),
                            p95,
                            max(times),
                        )
                    )
            browser.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("| run | action | presses | median ms | p95 ms | max ms |")
    print("|---|---|---:|---:|---:|---:|")
    for run, label, n, med, p95, worst in table:
        print(f"| {run} | {label} | {n} | {med:.0f} | {p95:.0f} | {worst:.0f} |")


if __name__ == "__main__":
    main()
