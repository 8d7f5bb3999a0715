"""Recorded latency against a server of known, fixed latency.

A fixed-latency OpenAI-compatible server (`latency_server.py`, the benchmarks' own aiohttp
app, the one bench_throughput uses, in its own process) answers every call after exactly
50 ms or 500 ms. For each concurrency, a fresh process (a cold client: imports, first
connections) runs a real Promptyard run against it, and the table
compares the latency its cells recorded (p50/p95/p99, first cells included) with the
server's own measure of the same answers.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_latency.py [--latencies 50,500]
        [--concurrency 1,4,16,64,256] [--min-cells 32]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def child(root: str, model: str, cells: int, concurrency: int) -> None:
    """One run in this (fresh) process; prints the cells' latencies as JSON."""
    from sqlmodel import select

    from promptyard import runs
    from promptyard.storage import db
    from promptyard.storage.tables import Cell
    from promptyard.workspace import Workspace

    ws = Workspace(Path(root))
    plan = runs.plan_run(ws, [("summarize", None)], [model], ("bench", None), slice=f"head:{cells}")
    run_id = runs.create_run(ws, plan, concurrency=concurrency, use_cache=False)
    summary = runs.run_sync(ws, run_id)
    with db.session(ws) as s:
        rows = s.execute(select(Cell).where(Cell.run_id == run_id).order_by(Cell.id)).scalars()
        latencies = [c.latency_ms for c in rows if c.latency_ms is not None]
    print(json.dumps({"status": summary.status, "latencies": latencies}))


def _served(url: str) -> list[float]:
    with urllib.request.urlopen(url.replace("/v1", "/stats")) as response:
        data: list[float] = json.loads(response.read())
        return data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latencies", default="50,500")
    parser.add_argument("--concurrency", default="1,4,16,64,256")
    parser.add_argument("--min-cells", type=int, default=32)
    args = parser.parse_args()
    import latency_server  # here, not at the top: the `--child` runs never load it

    from promptyard.versioning.init import init_workspace

    latencies = [float(x) for x in args.latencies.split(",")]
    levels = [int(x) for x in args.concurrency.split(",")]
    most = max(max(args.min_cells, 2 * c) for c in levels)
    rows: list[dict[str, Any]] = []
    with latency_server.running(latencies) as servers, tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws")
        yaml = latency_server.models_yaml(servers, "0.000001", "0.000002")
        (ws.root / "models.yaml").write_text(yaml)
        text = "A short text to summarise, the same in every row."
        (ws.root / "datasets" / "bench.jsonl").write_text(
            "".join(json.dumps({"id": f"r{i}", "text": text}) + "\n" for i in range(most))
        )
        env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "src")}
        for lat, url in servers.items():
            for c in levels:
                cells = max(args.min_cells, 2 * c)
                before = len(_served(url))
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(ws.root), f"fixed{lat:g}"]
                    + [str(cells), str(c)],
                    capture_output=True,
                    text=True,
                    env=env,
                    check=True,
                )
                result = json.loads(out.stdout.strip().splitlines()[-1])
                served = _served(url)[before:]
                rec = result["latencies"]
                rows.append(
                    {
                        "server": lat,
                        "c": c,
                        "cells": len(rec),
                        "rec": [_pct(rec, q) for q in (0.5, 0.95, 0.99)],
                        "srv": [_pct(served, q) for q in (0.5, 0.95, 0.99)],
                        "first": max(rec[: min(8, len(rec))]),
                    }
                )
                print(_line(rows[-1]), flush=True)
    print()
    print(
        "| server ms | concurrency | cells | recorded p50 / p95 / p99 ms | server p50 / p95 / p99 ms | first 8 cells max ms | within 10% or 5 ms |"
    )
    print("|---:|---:|---:|---:|---:|---:|:---:|")
    for row in rows:
        print(_line(row))


def _line(row: dict[str, Any]) -> str:
    rec, srv = row["rec"], row["srv"]
    ok = all(abs(r - s) <= max(5.0, 0.10 * s) for r, s in zip(rec, srv, strict=True))
    fmt = " / ".join
    return (
        f"| {row['server']:g} | {row['c']} | {row['cells']} | {fmt(f'{v:.1f}' for v in rec)} | "
        f"{fmt(f'{v:.1f}' for v in srv)} | {row['first']:.1f} | {'yes' if ok else 'no'} |"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
