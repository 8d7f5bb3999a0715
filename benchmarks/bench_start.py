"""How soon the first call leaves: from exec of `promptyard run` to the first request at a
test server, on a small plan (2 cells), each time in a fresh process.

A fixed-latency server (`latency_server.py`, its own process) is a models.yaml endpoint
(the lean path). Each round execs the `promptyard` console script and notes when the
server's port first sees a connection (an audit hook in the child prints the moment it
connects, so the figure is the child's own clock from its exec). One more run under
`python -X importtime` lists what was imported before that first connection, and the
heaviest of it.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_start.py [--rounds 5] [--rows 2000]

`--rows N` plans N cells instead of 2 (a generated dataset of N short rows, like
bench_throughput's). The child runs with .pyc files written and used (a
PYTHONDONTWRITEBYTECODE in the environment is dropped for it), as an installed package has.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SLOW = ("litellm", "openai", "pandas", "numpy", "streamlit", "plotly", "tiktoken", "httpx")

# Runs as the child: the console script's `main`, with a hook marking the first connect.
CHILD_TEMPLATE = """
import sys, time
SLOW = {slow!r}
started = float(sys.argv[1]); port = int(sys.argv[2]); done = []
def hook(event, args):
    if event == "socket.connect" and not done:
        addr = args[1]
        if isinstance(addr, tuple) and len(addr) >= 2 and addr[1] == port:
            done.append(1)
            slow = [m for m in SLOW if m in sys.modules]
            cpu = time.process_time()
            line = f"FIRST-CALL {time.time() - started} {cpu} {','.join(slow)}\\n"
            sys.stderr.write(line)  # one write: another thread may be writing too
            sys.stderr.flush()
sys.addaudithook(hook)
from promptyard.cli import main
sys.argv = ["promptyard", *sys.argv[3:]]
main()
"""
CHILD = CHILD_TEMPLATE.replace("{slow!r}", repr(SLOW))


def _first_call(
    ws: Path, port: int, env: dict[str, str], importtime: bool, rows: int = 2
) -> tuple[float, float, float, str, str]:
    dataset = "summaries" if rows <= 2 else "bench"
    args = ["run", "-p", "summarize", "-m", "fixed", "-d", dataset, "--limit", str(rows)]
    args += ["--no-cache"] + (["--workers", "1", "--concurrency", "128"] if rows > 2 else [])
    cmd = [sys.executable] + (["-X", "importtime"] if importtime else [])
    started = time.time()
    out = subprocess.run(
        [*cmd, "-c", CHILD, str(started), str(port), *args],
        cwd=ws,
        env=env,
        capture_output=True,
        text=True,
    )
    total = time.time() - started
    if out.returncode != 0:
        raise SystemExit(f"promptyard run exited {out.returncode}: {out.stderr[-2000:]}")
    # The first call may leave from a thread while the main one imports, so -X importtime
    # lines can interleave with the marker's: find it anywhere.
    marker = re.search(r"FIRST-CALL ([0-9.e-]+) ([0-9.e-]+) ?([\w,]*)", out.stderr)
    assert marker is not None, out.stderr[-2000:]
    first, cpu, slow = marker.groups()
    return float(first), float(cpu), total, slow, out.stderr


def _heaviest_before(stderr: str, n: int = 12) -> list[tuple[int, str]]:
    before = stderr.split("FIRST-CALL", 1)[0].splitlines()
    rows = []
    for line in before:
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = line.split("|")
            if cumulative.strip().isdigit() and not name.startswith("  "):
                rows.append((int(cumulative), name.strip()))
    return sorted(rows, reverse=True)[:n]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rows", type=int, default=2, help="cells in the plan")
    args = parser.parse_args()
    from promptyard.versioning.init import init_workspace

    server = subprocess.Popen(
        [sys.executable, str(HERE / "latency_server.py"), "5"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stdin is not None
    url = server.stdout.readline().strip()
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    try:
        with tempfile.TemporaryDirectory() as tmp:
            ws = init_workspace(Path(tmp) / "ws").root
            (ws / "models.yaml").write_text(
                f"models:\n  fixed:\n    model: openai/fixed\n    api_base: {url}\n"
                "    input_cost_per_token: 0.000001\n    output_cost_per_token: 0.000002\n"
            )
            if args.rows > 2:
                (ws / "datasets" / "bench.jsonl").write_text(
                    "".join(
                        json.dumps({"id": f"r{i}", "text": f"A short text to summarise, row {i}."})
                        + "\n"
                        for i in range(args.rows)
                    )
                )
                for git in (["add", "-A"], ["commit", "-qm", "bench rows"]):
                    subprocess.run(["git", *git], cwd=ws, check=True, capture_output=True)
            env = {
                **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
                "PYTHONPATH": os.environ.get("PYTHONPATH", "src"),
                "PROMPTYARD_HOME": str(ws),
            }
            _first_call(ws, port, env, False, args.rows)  # the database made, .pyc written
            firsts, cpus, totals, slow = [], [], [], set()
            for _ in range(args.rounds):
                first, cpu, total, imported, _ = _first_call(ws, port, env, False, args.rows)
                firsts.append(first)
                cpus.append(cpu)
                totals.append(total)
                slow.update(m for m in imported.split(",") if m)
            stderr = _first_call(ws, port, env, True, args.rows)[-1]
            if os.environ.get("BENCH_START_DUMP"):
                Path(os.environ["BENCH_START_DUMP"]).write_text(stderr)
    finally:
        server.stdin.close()
        server.wait(timeout=10)
    load = os.getloadavg()[0]
    print(f"load average {load:.1f}; {args.rounds} rounds, {args.rows} cells each")
    print()
    print("| measure | median | min | max |")
    print("|---|---:|---:|---:|")
    for label, values in (
        ("exec to first request (s)", firsts),
        ("CPU before the first request (s)", cpus),
        ("exec to exit (s)", totals),
    ):
        print(
            f"| {label} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} |"
        )
    print()
    print(f"slow modules imported before the first request: {', '.join(sorted(slow)) or 'none'}")
    print()
    print("heaviest top-level imports before the first request (-X importtime, cumulative ms):")
    for micros, name in _heaviest_before(stderr):
        print(f"  {micros / 1000:7.0f}  {name}")


if __name__ == "__main__":
    main()
