"""What the frame guard proxy in front of Streamlit costs a page.

Starts `promptyard ui` (Streamlit on a loopback port behind the proxy) on a fresh
`promptyard init` workspace, finds Streamlit's own port (the child's listening socket),
and times the same requests straight to Streamlit and through the proxy: the page itself,
its largest JavaScript file, and the health check, each N times after a warm-up.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_ui_proxy.py [--n 200]

Prints a table; the numbers go in docs/benchmarks.md ("## Frame guard proxy").
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return bytes(response.read())


def _wait(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _get(url + "/_stcore/health")
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


def _times(url: str, n: int) -> tuple[float, float, int]:
    for _ in range(5):
        _get(url)
    samples, size = [], 0
    for _ in range(n):
        start = time.perf_counter()
        size = len(_get(url))
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))], size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        subprocess.run(
            [sys.executable, "-m", "promptyard", "init", str(ws)], check=True, capture_output=True
        )
        port = _free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "promptyard", "ui", "--port", str(port), "--workspace", str(ws)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            proxied = f"http://127.0.0.1:{port}"
            _wait(proxied)
            child = psutil.Process(proc.pid).children()[0]
            inner = next(c.laddr.port for c in child.net_connections("tcp") if c.status == "LISTEN")
            direct = f"http://127.0.0.1:{inner}"
            page = _get(direct + "/").decode()
            scripts = re.findall(r'src="\.?/?(static/js/[^"]+\.js)"', page)
            paths = {"page (/)": "/", "health": "/_stcore/health"}
            if scripts:
                paths["main script"] = "/" + scripts[0]
            print(f"requests: {args.n} each, after 5 warm-up; times in ms")
            print(f"{'request':<14}{'bytes':>10}{'direct p50':>12}{'proxy p50':>11}"
                  f"{'direct p95':>12}{'proxy p95':>11}")  # fmt: skip
            for name, path in paths.items():
                d50, d95, size = _times(direct + path, args.n)
                p50, p95, _ = _times(proxied + path, args.n)
                print(f"{name:<14}{size:>10,}{d50:>12.2f}{p50:>11.2f}{d95:>12.2f}{p95:>11.2f}")
        finally:
            proc.terminate()
            proc.wait(20)


if __name__ == "__main__":
    main()
