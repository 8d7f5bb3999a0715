"""The pre-run estimate against the run: cost and time, before and after history exists.

For each example prompt and its dataset (simulator models, 50 ms), the estimate before
any run (max_tokens or the default), the run's actual cost and wall time, then the
estimate again with that run as history, and a second run. Prints one table.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_estimate.py
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PAIRS = [("summarize", "summaries"), ("support_reply", "tickets"), ("extract_invoice", "invoices")]


def main() -> None:
    from promptyard import runs
    from promptyard.models import start_simulator
    from promptyard.versioning.init import init_workspace

    sim = start_simulator(latency_ms=50)
    os.environ["PROMPTYARD_SIMULATOR_URL"] = sim.url
    print("| prompt | model | estimate source | est. cost | actual cost | est. s | actual s |")
    print("|---|---|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws")
        for prompt, dataset in PAIRS:
            for model in ("sim-fast", "sim-smart"):
                plan = runs.plan_run(
                    ws, [(prompt, None)], [model], (dataset, None), slice="head:16"
                )
                for _ in range(2):
                    est = runs.estimate(plan, concurrency=4, ws=ws)
                    run_id = runs.create_run(ws, plan, concurrency=4, use_cache=False)
                    s = runs.run_sync(ws, run_id)
                    source = est.sources[0][1]
                    cost = "unknown" if est.cost_usd is None else f"${est.cost_usd:.5f}"
                    print(
                        f"| {prompt} | {model} | {source} | {cost} | {s.cost_label} | "
                        f"{est.seconds:.2f} | {s.wall_s or 0:.2f} |",
                        flush=True,
                    )
    sim.stop()


if __name__ == "__main__":
    main()
