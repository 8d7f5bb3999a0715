"""Throughput side by side: how close each client gets to the provider's limit.

A fixed-latency OpenAI-compatible server (`latency_server.py`, the benchmarks' own aiohttp
app in its own process, not the product's simulator) answers every chat call after exactly
LATENCY ms, so the physical limit of a client at concurrency C is C / LATENCY calls a
second. For each
configuration (cells x latency x concurrency) the contenders run interleaved (the order
rotates each round) and repeated, each in a fresh process:

- a bare aiohttp client (one session, a semaphore): the server's and the machine's ceiling;
- raw `openai.AsyncOpenAI` (its default client), a semaphore;
- `promptyard run` through the CLI, start-up included (a fresh `promptyard` process,
  cache off, cells stored in the workspace's SQLite database), with 1, 2 and N workers
  when `promptyard run --help` offers `--workers`, and without the flag ("default": the
  number of workers it picks itself).

Per contender (the median over the rounds): calls/s from exec to the last answer
(start-up included), calls/s between the first and the last request the server saw, the share of the
limit, the ratio to the bare client, CPU per cell (user + system, the process and the
children it waited for), the server's own CPU per cell, how many cores the two kept busy
from exec to the last answer (client + server CPU over that time: when it reaches the
machine's core count, the cores have run out, and more workers cannot add throughput), peak
RSS (the largest process) and database bytes per cell. Every client runs with its .pyc
files written and used, as installed; one short `promptyard run` before the rounds makes the
workspace's database.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_throughput.py [--quick]
        [--cells 2000,20000] [--latencies 50,500] [--concurrency 32,128,512] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
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

MESSAGES = [
    {"role": "system", "content": "Summarize the text in one sentence."},
    {"role": "user", "content": "A short text to summarise, the same in every row."},
]
# --- the plain clients (each in its own process) --------------------------------------


def client(kind: str, url: str, cells: int, concurrency: int) -> None:
    """`--client bare|openai URL CELLS C`: make the calls, print errors as JSON."""
    import asyncio

    async def bare() -> int:
        import aiohttp

        errors = 0
        sem = asyncio.Semaphore(concurrency)
        payload = json.dumps({"model": "fixed", "messages": MESSAGES}).encode()
        headers = {"Content-Type": "application/json", "Authorization": "Bearer no-key"}
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def one() -> None:
                nonlocal errors
                async with (
                    sem,
                    session.post(f"{url}/chat/completions", data=payload, headers=headers) as r,
                ):
                    data = json.loads(await r.read())
                    errors += r.status != 200 or not data.get("choices")

            await asyncio.gather(*(one() for _ in range(cells)))
        return errors

    async def sdk() -> int:
        import openai

        errors = 0
        sem = asyncio.Semaphore(concurrency)
        api = openai.AsyncOpenAI(base_url=url, api_key="no-key")

        async def one() -> None:
            nonlocal errors
            async with sem:
                try:
                    r = await api.chat.completions.create(model="fixed", messages=MESSAGES)  # type: ignore[arg-type]
                    errors += not r.choices
                except openai.OpenAIError:
                    errors += 1

        await asyncio.gather(*(one() for _ in range(cells)))
        await api.close()
        return errors

    errors = asyncio.run(bare() if kind == "bare" else sdk())
    print(json.dumps({"errors": errors}))


# --- the parent -------------------------------------------------------------------------


def _get(url: str, path: str, method: str = "GET") -> dict[str, Any]:
    req = urllib.request.Request(
        url.replace("/v1", path), method=method, data=b"" if method == "POST" else None
    )
    with urllib.request.urlopen(req, timeout=30) as response:
        data: dict[str, Any] = json.loads(response.read())
        return data


def _rusage_run(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> dict[str, Any]:
    """Run `cmd` and reap it with wait4: wall, CPU seconds and peak RSS (MB) from the kernel."""
    started = time.time()
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "started": started,
        "wall": time.time() - started,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
        "out": out,
        "err": err,
        "code": proc.returncode,
    }


def _db_bytes(root: Path) -> int:
    data = root / ".promptyard"
    return sum(p.stat().st_size for p in data.rglob("*") if p.is_file()) if data.exists() else 0


def _workers_supported(promptyard: str, env: dict[str, str]) -> bool:
    out = subprocess.run([promptyard, "run", "--help"], env=env, capture_output=True, text=True)
    return "--workers" in out.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="2,000 cells, 50 ms, c=128, 1 round")
    parser.add_argument("--cells", default="2000,20000")
    parser.add_argument("--latencies", default="50,500")
    parser.add_argument("--concurrency", default="32,128,512")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated contender names to run")
    args = parser.parse_args()
    if args.quick:
        args.cells, args.latencies, args.concurrency, args.rounds = "2000", "50", "128", 1
    configs = [
        (int(n), float(lat), int(c))
        for n in args.cells.split(",")
        for lat in args.latencies.split(",")
        for c in args.concurrency.split(",")
    ]
    # The clients run as an installed package does, with .pyc files written and used (a
    # PYTHONDONTWRITEBYTECODE in the environment would make every `promptyard run` compile
    # its modules again before its first call: 0.1-0.15 s here).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "src")
    promptyard = str(Path(sys.executable).parent / "promptyard")
    if not Path(promptyard).exists():
        promptyard = shutil.which("promptyard") or "promptyard"
    cores = os.cpu_count() or 1
    contenders = ["bare aiohttp", "openai.AsyncOpenAI"]
    if _workers_supported(promptyard, env):
        contenders += [
            f"promptyard run, {w} worker{'s' if w > 1 else ''}" for w in sorted({1, 2, cores})
        ]
        contenders.append("promptyard run (default)")  # no --workers: as a user runs it
    else:
        contenders.append("promptyard run")
        print("note: `promptyard run` has no --workers here: one process per run", flush=True)
    if args.only:
        contenders = [c for c in contenders if any(o.strip() in c for o in args.only.split(","))]

    import latency_server  # here, not at the top: the clients' processes never load it

    from promptyard.versioning.init import init_workspace

    rows: list[dict[str, Any]] = []
    with (
        latency_server.running(sorted({lat for _, lat, _ in configs})) as servers,
        tempfile.TemporaryDirectory() as tmp,
    ):
        ws = init_workspace(Path(tmp) / "ws")
        yaml = latency_server.models_yaml(servers, "0.0000001", "0.0000002")
        (ws.root / "models.yaml").write_text(yaml)
        most_rows = min(2000, max(n for n, _, _ in configs))
        (ws.root / "datasets" / "bench.jsonl").write_text(
            "".join(
                json.dumps({"id": f"r{i}", "text": f"A short text to summarise, row {i}."}) + "\n"
                for i in range(most_rows)
            )
        )
        subprocess.run(["git", "add", "-A"], cwd=ws.root, check=True, capture_output=True)
        subprocess.run(
            ["git", "commit", "-qm", "bench"], cwd=ws.root, check=True, capture_output=True
        )
        if any(name.startswith("promptyard run") for name in contenders):
            # A first run outside the rounds: it makes the database and writes the .pyc
            # files, which round one's run would otherwise pay for alone.
            lat = configs[0][1]
            _one("promptyard run", 20, lat, 8, servers[lat], ws.root, promptyard, env)
        for cells, lat, c in configs:
            url = servers[lat]
            limit = c / (lat / 1000)
            results: dict[str, list[dict[str, Any]]] = {name: [] for name in contenders}
            for r in range(args.rounds):
                order = contenders[r % len(contenders) :] + contenders[: r % len(contenders)]
                for name in order:
                    results[name].append(_one(name, cells, lat, c, url, ws.root, promptyard, env))
                    m = results[name][-1]
                    print(
                        f"  {cells} cells {lat:g} ms c={c} round {r + 1}: {name}: "
                        f"{m['calls_s']:.0f} calls/s ({m['active_s']:.0f} while calling), "
                        f"{m['cpu_ms']:.2f} ms CPU/cell, {m['rss_mb']:.0f} MB",
                        flush=True,
                    )
            bare = (
                statistics.median(m["calls_s"] for m in results[contenders[0]])
                if "bare" in contenders[0]
                else None
            )
            for name in contenders:
                ms = results[name]
                calls = statistics.median(m["calls_s"] for m in ms)
                rows.append(
                    {
                        "config": f"{cells:,} cells, {lat:g} ms, c={c}",
                        "limit": limit,
                        "name": name,
                        "calls_s": calls,
                        "active_s": statistics.median(m["active_s"] for m in ms),
                        "share": calls / limit,
                        "ratio": calls / bare if bare else None,
                        "cpu_ms": statistics.median(m["cpu_ms"] for m in ms),
                        "server_cpu_ms": statistics.median(m["server_cpu_ms"] for m in ms),
                        "cores_busy": statistics.median(m["cores_busy"] for m in ms),
                        "rss_mb": max(m["rss_mb"] for m in ms),
                        "db_b": statistics.median(m["db_b"] for m in ms)
                        if ms[0]["db_b"] is not None
                        else None,
                        "errors": sum(m["errors"] for m in ms),
                        "first_s": statistics.median(m["first_call_s"] for m in ms),
                        "wall_s": statistics.median(m["wall_s"] for m in ms),
                    }
                )
    _table(rows, args.rounds)


def _one(
    name: str,
    cells: int,
    lat: float,
    c: int,
    url: str,
    root: Path,
    promptyard: str,
    env: dict[str, str],
) -> dict[str, Any]:
    _get(url, "/reset", "POST")
    db_before = _db_bytes(root)
    if name.startswith("promptyard run"):
        rows = min(cells, 2000)
        cmd = [promptyard, "run", "-p", "summarize", "-m", f"fixed{lat:g}", "-d", "bench"]
        cmd += ["--limit", str(rows), "--repeats", str(max(1, cells // rows))]
        cmd += ["--concurrency", str(c), "--no-cache", "--json"]
        if "worker" in name:
            cmd += ["--workers", name.split(", ")[1].split()[0]]
        m = _rusage_run(cmd, {**env, "PROMPTYARD_HOME": str(root)}, cwd=root)
        if m["code"] != 0:
            raise SystemExit(f"{' '.join(cmd)} exited {m['code']}: {m['err'][-2000:]}")
        errors = cells - _get(url, "/stats/calls")["count"]
        db_b: float | None = (_db_bytes(root) - db_before) / cells
    else:
        kind = "bare" if name.startswith("bare") else "openai"
        m = _rusage_run([sys.executable, __file__, "--client", kind, url, str(cells), str(c)], env)
        if m["code"] != 0:
            raise SystemExit(f"{name} exited {m['code']}: {m['err'][-2000:]}")
        errors = json.loads(m["out"].strip().splitlines()[-1])["errors"]
        db_b = None
    seen = _get(url, "/stats/calls")
    span = max(1e-9, seen["last"] - seen["first"] + lat / 1000)
    to_last = max(1e-9, seen["last"] + lat / 1000 - m["started"])  # exec to the last answer
    return {
        "calls_s": cells / to_last,
        "wall_s": m["wall"],
        "active_s": seen["count"] / span,
        "cpu_ms": m["cpu"] / cells * 1000,
        "server_cpu_ms": seen["cpu"] / cells * 1000,
        "cores_busy": (m["cpu"] + seen["cpu"]) / to_last,
        "rss_mb": m["rss_mb"],
        "db_b": db_b,
        "errors": errors,
        "first_call_s": seen["first"] - m["started"],
    }


def _table(rows: list[dict[str, Any]], rounds: int) -> None:
    print()
    print(
        f"median of {rounds} round(s); calls/s from exec to the last answer (start-up "
        "included); the process exits some time later (scoring, summaries: 'exit after s')"
    )
    print()
    print(
        "| configuration (limit calls/s) | client | calls/s | calls/s while calling | share of the limit "
        "| ratio to bare | first call after s | exit after s | CPU ms/cell | server CPU ms/cell "
        f"| cores busy (of {os.cpu_count()}) | peak RSS MB | DB bytes/cell | errors |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        ratio = f"{row['ratio']:.2f}" if row["ratio"] is not None else "—"
        db = f"{row['db_b']:,.0f}" if row["db_b"] is not None else "—"
        print(
            f"| {row['config']} ({row['limit']:,.0f}) | {row['name']} | {row['calls_s']:,.0f} | "
            f"{row['active_s']:,.0f} | {row['share']:.2f} | {ratio} | {row['first_s']:.2f} | "
            f"{row['wall_s']:.1f} | "
            f"{row['cpu_ms']:.2f} | {row['server_cpu_ms']:.2f} | {row['cores_busy']:.2f} | "
            f"{row['rss_mb']:.0f} | {db} | {row['errors']} |"
        )


if __name__ == "__main__":
    if len(sys.argv) > 5 and sys.argv[1] == "--client":
        client(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
