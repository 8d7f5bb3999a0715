"""A fixed-latency OpenAI-compatible server for tests: benchmarks/latency_server.py in its
own process (never this one's GIL), answering every call after exactly `latency_ms`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LATENCY_SERVER = Path(__file__).resolve().parent.parent / "benchmarks" / "latency_server.py"


@contextmanager
def fixed_latency_server(latency_ms: float) -> Iterator[str]:
    """The server's base URL (http://127.0.0.1:PORT/v1) while the block runs; it stops
    when its stdin closes."""
    proc = subprocess.Popen(
        [sys.executable, str(LATENCY_SERVER), f"{latency_ms:g}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)
