"""How long planning and storing a big run takes, the memory it needs, and bytes per cell.

Three measurements, each in a fresh `promptyard init` workspace on SQLite, each in a
process of its own (so peak RSS is that step's own):
- plan + store: `plan_run` (load the dataset, render every cell) and `create_run` (the
  cells streamed to the database in batches), for 200,000 cells; the estimate apart;
- peak RSS at a million cells: plan + store, then a dry execution that claims every cell
  in batches and stores a result for it, exactly as workers do but with no HTTP call;
- database bytes per cell after a real run of the example prompts against the simulator:
  the file's growth, and the pages each table and index grew by (SQLite's dbstat).

    PYTHONPATH=src .venv/bin/python benchmarks/bench_plan.py [--cells 200000] [--million 1000000]
        [--only plan|million|distinct|bytes]

Prints a table; the numbers go in docs/benchmarks.md ("## Planning, storing, memory").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
_LAST: list[Any] = []  # the workspaces made, newest last


def _workspace(rows: int) -> Any:
    from promptyard.versioning.init import init_workspace

    base = Path(tempfile.mkdtemp(prefix="bench-plan-"))
    gitconfig = base / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Bench\n\temail = bench@example.com\n")
    os.environ["GIT_CONFIG_GLOBAL"] = str(gitconfig)
    ws = init_workspace(base / "ws")
    if rows:
        with open(ws.root / "datasets" / "bench.jsonl", "w", encoding="utf-8") as out:
            for i in range(rows):
                text = f"Ticket {i}: my order #{i * 7} arrived late and the box was damaged."
                out.write(json.dumps({"id": f"r{i:07}", "kind": "ticket", "text": text}) + "\n")
    return ws


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def plan_and_store(rows: int, repeats: int) -> dict[str, float]:
    """Plan, estimate and store rows x repeats cells of `summarize` on sim-fast."""
    from promptyard import runs

    ws = _workspace(rows)
    _LAST.append(ws)
    t0 = time.perf_counter()
    plan = runs.plan_run(ws, [("summarize", None)], ["sim-fast"], ("bench", None), repeats=repeats)
    t1 = time.perf_counter()
    rss_plan = _rss_mb()
    run_id = runs.create_run(ws, plan, concurrency=64)
    t2 = time.perf_counter()
    rss_store = _rss_mb()
    runs.estimate(plan, 64, ws=ws)
    t3 = time.perf_counter()
    del plan
    return {
        "rss_after_plan_mb": rss_plan,
        "rss_after_store_mb": rss_store,
        "cells": rows * repeats,
        "plan_s": t1 - t0,
        "store_s": t2 - t1,
        "estimate_s": t3 - t2,
        "rss_mb": _rss_mb(),
        "run_id": run_id,
        "db_bytes_per_cell": (ws.data_dir / "promptyard.db").stat().st_size / (rows * repeats),
    }


def million(rows: int, repeats: int) -> dict[str, float]:
    """Plan + store, then claim and store every cell in batches (no HTTP): peak RSS."""
    from sqlalchemy import text

    from promptyard.models import Completion
    from promptyard.runs import claims
    from promptyard.runs.records import CellTodo, cell_update
    from promptyard.storage import db
    from promptyard.storage.tables import utcnow

    out = plan_and_store(rows, repeats)
    run_id = int(out["run_id"])
    work = _LAST[-1]
    execution, _ = claims.begin_execution(work, run_id)
    owner = claims.new_owner()
    with db.session(work) as s:
        query = text("SELECT id FROM variant WHERE run_id = :r")
        variants = [v for (v,) in s.execute(query, {"r": run_id})]
    cursor = claims.START
    stored = 0
    t0 = time.perf_counter()
    while True:
        got = claims.claim_cells(work, run_id, owner, execution, variants, cursor, 2000)
        if not got:
            break
        cursor = got[-1].position
        rows_done = []
        for c in got:
            result = Completion(
                text="A short summary of the ticket.", finish_reason="stop", prompt_tokens=100,
                completion_tokens=8, cost_usd=0.0, latency_ms=1.0, ttft_ms=None,
                error_kind=None, error_message=None, raw=None,
            )  # fmt: skip
            todo = CellTodo(c.cell_id, c.variant_id, c.repeat, c.messages_json)
            rows_done.append(cell_update(todo, result, 1, utcnow()))
        done, _ = claims.record_cells(work, run_id, owner, execution, rows_done, {})
        stored += len(done)
    out["dry_run_s"] = time.perf_counter() - t0
    out["stored"] = stored
    out["rss_mb"] = _rss_mb()
    return out


def bytes_after_a_run(repeats: int) -> dict[str, float]:
    """A real run of the example prompts against the simulator: bytes per stored cell."""
    from sqlalchemy import text

    from promptyard import runs
    from promptyard.models import start_simulator
    from promptyard.storage import db

    ws = _workspace(0)
    sim = start_simulator(latency_ms=1)
    os.environ["PROMPTYARD_SIMULATOR_URL"] = sim.url
    db_file = ws.data_dir / "promptyard.db"
    with db.session(ws) as s:  # an empty, migrated database: the baseline
        s.execute(text("SELECT 1"))
    engine = db.get_engine(ws)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    empty = db_file.stat().st_size
    empty_pages = _pages(engine)
    cells = 0
    for prompt, dataset in (("summarize", "summaries"), ("classify_ticket", "tickets")):
        try:
            plan = runs.plan_run(
                ws, [(prompt, None)], ["sim-fast", "sim-smart"], (dataset, None), repeats=repeats
            )
        except Exception:  # an example missing from this workspace
            continue
        run_id = runs.create_run(ws, plan, concurrency=32)
        cells += runs.run_sync(ws, run_id).ok
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        raw = conn.exec_driver_sql("SELECT AVG(LENGTH(raw_response_json)) FROM cell").scalar()
    grown = {k: v - empty_pages.get(k, 0) for k, v in _pages(engine).items()}
    sim.stop()
    per = max(1, cells)
    return {
        "cells": cells,
        "db_bytes_per_cell": (db_file.stat().st_size - empty) / per,
        "raw_bytes_per_cell": float(raw or 0.0),
        "pages_per_cell": sum(grown.values()) / per,
        "cell_table_per_cell": grown.get("cell", 0) / per,
        "payload_tables_per_cell": (grown.get("run_row", 0) + grown.get("run_message", 0)) / per,
        "score_per_cell": grown.get("score", 0) / per,
        "indexes_per_cell": sum(v for k, v in grown.items() if k.startswith(("ix_", "ux_"))) / per,
    }


def _pages(engine: Any) -> dict[str, int]:
    """Bytes of pages per table and index (SQLite's dbstat), after a checkpoint."""
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = conn.exec_driver_sql("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")
        return {str(name): int(size) for name, size in rows}


def _child(kind: str, rows: int, repeats: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--rows", str(rows), "--repeats", str(repeats)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=200_000)
    parser.add_argument("--million", type=int, default=1_000_000)
    parser.add_argument("--child")
    parser.add_argument("--rows", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--only", choices=("plan", "million", "distinct", "bytes"), help="one line of the table"
    )
    args = parser.parse_args()
    if args.child:
        import logging

        logging.disable(logging.WARNING)
        if args.child == "plan":
            result = plan_and_store(args.rows, args.repeats)
        elif args.child == "million":
            result = million(args.rows, args.repeats)
        else:
            result = bytes_after_a_run(args.repeats)
        print(json.dumps(result))
        return
    if args.only == "bytes":
        _print_bytes(_child("bytes", 0, 10))
        return
    print(
        "| measurement | cells | plan s | store s | plan+store s | estimate s | dry run s | peak RSS MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    if args.only in (None, "plan"):
        plan = _child("plan", args.cells, 1)
        print(
            f"| plan + store, {args.cells:,} rows x 1 | {plan['cells']:,} | {plan['plan_s']:.1f} | "
            f"{plan['store_s']:.1f} | {plan['plan_s'] + plan['store_s']:.1f} | "
            f"{plan['estimate_s']:.1f} | — | {plan['rss_mb']:.0f} |"
        )
    lines = {"million": [(args.million // 10, 10)], "distinct": [(args.million, 1)]}
    for rows, repeats in lines.get(args.only or "", [(args.million // 10, 10), (args.million, 1)]):
        if args.only in ("plan", "bytes"):
            break
        m = _child("million", rows, repeats)
        print(
            f"| a million: plan, store, claim + store all, {rows:,} rows x {repeats} | "
            f"{m['cells']:,} | {m['plan_s']:.1f} | {m['store_s']:.1f} | "
            f"{m['plan_s'] + m['store_s']:.1f} | {m['estimate_s']:.1f} | {m['dry_run_s']:.1f} | "
            f"{m['rss_mb']:.0f} |"
        )
        print(
            f"|   peak RSS after plan / store / estimate + dry run: {m['rss_after_plan_mb']:.0f} /"
            f" {m['rss_after_store_mb']:.0f} / {m['rss_mb']:.0f} MB | | | | | | | |"
        )
    if args.only is None:
        _print_bytes(_child("bytes", 0, 10))


def _print_bytes(b: dict[str, Any]) -> None:
    print()
    print("| after a real run (simulator, example prompts, 2 models x 10 repeats) | value |")
    print("|---|---:|")
    print(f"| cells | {b['cells']:,} |")
    print(f"| database bytes per cell | {b['db_bytes_per_cell']:,.0f} |")
    print(f"| raw response bytes per cell (stored remainder) | {b['raw_bytes_per_cell']:,.0f} |")
    print(f"| pages grown per cell, all tables and indexes (dbstat) | {b['pages_per_cell']:,.0f} |")
    for label, key in (
        ("cell table", "cell_table_per_cell"),
        ("run_row + run_message (m024)", "payload_tables_per_cell"),
        ("score table", "score_per_cell"),
        ("indexes", "indexes_per_cell"),
    ):
        print(f"| of which {label} | {b[key]:,.0f} |")


if __name__ == "__main__":
    main()
