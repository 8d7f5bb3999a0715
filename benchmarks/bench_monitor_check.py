"""How long `promptyard monitor check` takes with many spans stored.

Builds a workspace (fresh git repository, SQLite) with N LLM spans over the last 30 days
(4 prompts × 5 versions, 3 models, 2 services, 5% errors, one new provider-reported model
and one new prompt version in the last hour) and a monitors.yaml with one monitor of each
metric and condition (pass rate over seeded span_score rows for 1% of spans), then times:
- run_checks() in process (every monitor, the change reports, alerts stored);
- `promptyard monitor check --json` as a subprocess (Python start-up included).

    PYTHONPATH=src .venv/bin/python benchmarks/bench_monitor_check.py [--spans 1000000]

Prints a table.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import git  # noqa: E402

from promptyard.monitoring import run_checks  # noqa: E402
from promptyard.storage import db  # noqa: E402
from promptyard.workspace import Workspace  # noqa: E402

MONITORS = """monitors:
  - {name: errors, metric: error_rate, window: 1h, condition: {above: 0.2}, min_count: 5}
  - {name: p95, metric: latency_p95, window: 1h, condition: {above: 2000}, min_count: 20}
  - {name: cost, metric: cost_per_hour, window: 1h, filter: {service: shop}, condition: {above: 5}}
  - {name: tokens, metric: tokens_per_hour, window: 1d, condition: {above: 1000000}}
  - {name: errors-trend, metric: error_rate, window: 1h, condition: {decline: previous_window}}
  - {name: p95-version, metric: latency_p95, window: 1h, filter: {prompt: p0},
     condition: {decline: previous_version}}
  - {name: quality, metric: pass_rate, evaluator: ev, window: 1d,
     condition: {decline: previous_version}, min_count: 20}
"""
SPAN_SCORE = (
    "CREATE TABLE IF NOT EXISTS span_score (id INTEGER PRIMARY KEY, span_row_id INTEGER, "
    "trace_id TEXT, span_id TEXT, suite TEXT, evaluator TEXT, passed BOOLEAN, score REAL, "
    "reason TEXT, judge_cost_usd REAL, created_at TIMESTAMP)"
)


def build(root: Path, n: int) -> Workspace:
    git.Repo.init(root, initial_branch="main")
    (root / "monitors.yaml").write_text(MONITORS, encoding="utf-8")
    ws = Workspace(root)
    db.get_engine(ws)  # migrations
    con = sqlite3.connect(ws.data_dir / "promptyard.db")
    con.execute(SPAN_SCORE)
    con.execute("CREATE INDEX IF NOT EXISTS ix_ss ON span_score (span_row_id)")
    rnd = random.Random(1)
    now = time.time_ns()
    span_ms = 30 * 86400 * 1000
    rows = []
    for i in range(n):
        start = now - int(span_ms * (1 - i / n)) * 1_000_000
        recent = start > now - 3600 * 10**9
        version = 6 if recent and i % 2 else 1 + (i * 5 // n)
        model = "sim-x-2" if recent and i % 3 == 0 else "sim-x-1"
        rows.append(
            (
                f"{i:032x}", f"{i:016x}", "chat", "client", "shop" if i % 2 else "api",
                start, start, rnd.expovariate(1 / 400), "error" if rnd.random() < 0.05 else "ok",
                True, "sim-x", model, 50, 20, 0.0004, f"p{i % 4}", version, "{}",
                "2027-01-01 00:00:00",
            )
        )  # fmt: skip
        if len(rows) == 50_000 or i == n - 1:
            con.executemany(
                "INSERT INTO span (trace_id, span_id, name, kind, service_name, start_ns, "
                "end_ns, duration_ms, status, is_llm, request_model, response_model, "
                "input_tokens, output_tokens, cost_usd, prompt_name, prompt_version, "
                "attributes_json, received_at) VALUES "
                "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            rows = []
    con.execute(
        "INSERT INTO span_score (span_row_id, trace_id, span_id, suite, evaluator, passed) "
        "SELECT id, trace_id, span_id, 's', 'ev', (id % 10) < 7 FROM span WHERE id % 100 = 0"
    )
    con.commit()
    con.execute("ANALYZE")
    con.close()
    return ws


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        root.mkdir()
        t0 = time.perf_counter()
        ws = build(root, args.spans)
        built = time.perf_counter() - t0
        timings = []
        for _ in range(3):
            t0 = time.perf_counter()
            report = run_checks(ws)
            timings.append(time.perf_counter() - t0)
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "promptyard", "monitor", "check", "--json", "--workspace",
             str(root)],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        cli = time.perf_counter() - t0
    print(f"spans stored: {args.spans:,} (built in {built:.1f} s); monitors: 7; "
          f"results: {len(report.results)}; changes: {len(report.changes)}; "
          f"cli exit code: {proc.returncode}")  # fmt: skip
    print(f"{'what':<44} {'seconds':>8}")
    print(f"{'run_checks() in process, best of 3':<44} {min(timings):>8.3f}")
    print(f"{'run_checks() in process, worst of 3':<44} {max(timings):>8.3f}")
    print(f"{'promptyard monitor check --json (subprocess)':<44} {cli:>8.3f}")


if __name__ == "__main__":
    main()
