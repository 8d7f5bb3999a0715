"""The run engine at scale: memory of a 50,000-cell run, a re-run from the cache, the
engine's overhead over bare `providers.complete`, and the app's start without litellm.

The simulator runs in its own process (so RSS is the engine's alone). Prints one table.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_engine.py [--cells 50000]
        [--concurrency 64] [--latency-ms 20] [--overhead-calls 2000] [--skip-app]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from promptyard._env import configure_offline_defaults

ROOT = Path(__file__).resolve().parent.parent


def _serve(port_queue: multiprocessing.Queue, latency_ms: float) -> None:  # type: ignore[type-arg]
    from promptyard.models import start_simulator

    handle = start_simulator(latency_ms=latency_ms)
    handle.keep_requests = False
    port_queue.put(handle.port)
    handle.serve_forever()


def _sim_calls(url: str) -> int:
    with urllib.request.urlopen(url.removesuffix("/v1") + "/health", timeout=10) as r:
        return int(json.load(r)["calls"])


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _plan(ws: Any, cells: int) -> Any:
    from promptyard import runs
    from promptyard.models import resolve_model
    from promptyard.prompts.api import get_prompt

    template = get_prompt("summarize", workspace=ws)
    specs = [runs.VariantSpec(template, resolve_model(ws, m)) for m in ("sim-fast", "sim-smart")]
    repeats = 2
    n_rows = cells // (len(specs) * repeats)
    rows = [
        runs.RowInput(
            f"r{i:06d}",
            {"text": f"Ticket {i}: my order #{10000 + i} arrived late and the box was "
                     f"damaged; item {i % 97} is missing. Please send a replacement."},
        )
        for i in range(n_rows)
    ]  # fmt: skip
    return runs.build_plan(specs, rows, repeats=repeats, dataset_name="bench")


def bench_big_run(ws: Any, url: str, cells: int, concurrency: int) -> list[tuple[str, str]]:
    from promptyard import runs

    out: list[tuple[str, str]] = []
    rss0 = _rss_mb()
    t = time.perf_counter()
    plan = _plan(ws, cells)
    plan_s = time.perf_counter() - t
    t = time.perf_counter()
    run_id = runs.create_run(ws, plan, concurrency=concurrency)
    create_s = time.perf_counter() - t
    n = plan.calls
    del plan
    calls0 = _sim_calls(url)
    t = time.perf_counter()
    summary = runs.run_sync(ws, run_id)
    first_s = time.perf_counter() - t
    first_calls = _sim_calls(url) - calls0
    peak = _peak_rss_mb()
    out += [
        ("cells", f"{n:,}"),
        ("plan (render every cell)", f"{plan_s:.1f} s"),
        ("create_run (store pending cells)", f"{create_s:.1f} s"),
        (f"first run, concurrency {concurrency}", f"{first_s:.1f} s ({n / first_s:,.0f} cells/s)"),
        (
            "first run: provider calls / ok / errors",
            f"{first_calls:,} / {summary.ok:,} / {summary.errors:,}",
        ),
        (
            "RSS before plan / peak (whole process)",
            f"{rss0:.0f} MB / {peak:.0f} MB (target < 500 MB)",
        ),
    ]

    # The same plan again: every cell is served from the cache.
    plan = _plan(ws, cells)
    run2 = runs.create_run(ws, plan, concurrency=concurrency)
    del plan
    calls0 = _sim_calls(url)
    t = time.perf_counter()
    again = runs.run_sync(ws, run2)
    cache_s = time.perf_counter() - t
    cache_calls = _sim_calls(url) - calls0
    out += [
        ("re-run from cache: provider calls", f"{cache_calls:,} (target 0); {again.cached:,} cached"),
        ("re-run from cache: time", f"{cache_s:.2f} s = {100 * cache_s / first_s:.1f}% of the first run (target < 5%)"),
    ]  # fmt: skip
    return out


async def _bare(url: str, calls: int, concurrency: int) -> float:
    from promptyard.models import ModelCall, complete, simulated_endpoint

    endpoint = simulated_endpoint("sim-fast")
    sem = asyncio.Semaphore(concurrency)
    messages = [{"role": "user", "content": "Summarize: the parcel arrived damaged."}]

    async def one(i: int) -> None:
        async with sem:
            await complete(
                ModelCall(
                    endpoint,
                    [{**messages[0], "content": f"{i} {messages[0]['content']}"}],
                    repeat=0,
                )
            )

    t = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(calls)))
    return time.perf_counter() - t


def bench_overhead(
    ws: Any, url: str, calls: int, concurrency: int, rounds: int = 3
) -> list[tuple[str, str]]:
    """Bare `providers.complete` vs the engine (plan stored, cells written), alternating."""
    import statistics

    from promptyard import runs
    from promptyard.models import resolve_model
    from promptyard.prompts import parse_prompt

    template = parse_prompt(
        "---\nname: b\n---\nuser:\n{{ i }} Summarize: the parcel arrived damaged.\n", "b"
    )
    rows = [runs.RowInput(f"o{i}", {"i": f"x{i}"}) for i in range(calls)]
    plan = runs.build_plan([runs.VariantSpec(template, resolve_model(ws, "sim-fast"))], rows)
    asyncio.run(_bare(url, 50, 8))  # warm up litellm and the connection pool
    bare_rates, engine_rates = [], []
    for _ in range(rounds):
        bare_rates.append(calls / asyncio.run(_bare(url, calls, concurrency)))
        run_id = runs.create_run(ws, plan, concurrency=concurrency, use_cache=False)
        t = time.perf_counter()
        runs.run_sync(ws, run_id)
        engine_rates.append(calls / (time.perf_counter() - t))
    bare, eng = statistics.median(bare_rates), statistics.median(engine_rates)
    return [
        (f"bare providers.complete, {calls} calls @ {concurrency} (median of {rounds})", f"{bare:,.0f} calls/s"),
        (f"engine (stored, batched), {calls} calls @ {concurrency} (median of {rounds})", f"{eng:,.0f} calls/s"),
        ("engine / bare throughput", f"{eng / bare:.2f}"),
    ]  # fmt: skip


def bench_app_start(ws: Any) -> list[tuple[str, str]]:
    """Seconds from `promptyard ui` to a rendered home page in an open browser.

    The browser is started first, as a user's is already open; litellm is never imported.
    """
    import socket

    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PROMPTYARD_HOME": str(ws.root), "PYTHONPATH": str(ROOT / "src")}
    rows: list[tuple[str, str]] = []
    url = f"http://127.0.0.1:{port}"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "promptyard", "ui", "--port", str(port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                        break
                except OSError:
                    time.sleep(0.05)
            healthy = time.perf_counter() - t0
            rows.append(("app: process start to health", f"{healthy:.2f} s"))
            page.goto(url)
            page.wait_for_selector('[data-testid="stMainBlockContainer"] h1', timeout=30_000)
            rendered = time.perf_counter() - t0
            rows.append(
                ("app: process start to home page rendered", f"{rendered:.2f} s (target < 3 s)")
            )
        finally:
            browser.close()
            proc.terminate()
            proc.wait(10)
    probe = (
        "import sys; sys.path.insert(0, 'app'); from streamlit.testing.v1 import AppTest;\n"
        "for p in ('app/views/home.py', 'app/views/runs.py', 'app/views/playground.py'):\n"
        "    AppTest.from_file(p, default_timeout=60).run()\n"
        "print('litellm' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    imported = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "?"
    rows.append(("litellm imported by home, runs, playground pages", imported))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cells", type=int, default=50_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--overhead-calls", type=int, default=2000)
    parser.add_argument("--skip-app", action="store_true")
    parser.add_argument("--skip-big", action="store_true", help="only overhead and app start")
    args = parser.parse_args()
    configure_offline_defaults()

    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    server = multiprocessing.Process(target=_serve, args=(queue, args.latency_ms), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{queue.get(timeout=60)}/v1"
    os.environ["PROMPTYARD_SIMULATOR_URL"] = url

    from promptyard.versioning.init import init_workspace

    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws")
        try:
            if not args.skip_big:
                rows += bench_big_run(ws, url, args.cells, args.concurrency)
            rows += bench_overhead(ws, url, args.overhead_calls, 32)
            if not args.skip_app:
                rows += bench_app_start(ws)
        finally:
            server.terminate()
    width = max(len(k) for k, _ in rows)
    print(f"\n{'measure':<{width}}  result")
    print(f"{'-' * width}  {'-' * 40}")
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
