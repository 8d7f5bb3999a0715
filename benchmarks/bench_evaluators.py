"""How fast evaluators, suite scoring and LLM judges are.

1. Each code evaluator on 2,000 short outputs (about 60 words) and on one 1 MB output.
2. `score_run` over a stored run of N cells (default 10,000) with six code assertions:
   reading the cells, grading, and writing N x 7 Score rows.
3. `llm-rubric` judges against the in-process simulator (no latency added), 8 at a time.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_evaluators.py [--cells 10000] [--judged 200]

Prints tables; the numbers go in docs/benchmarks.md ("## Evaluators and the gate").
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from promptyard._env import configure_offline_defaults  # noqa: E402

configure_offline_defaults()

from promptyard.evals import (  # noqa: E402
    Assertion,
    EvalContext,
    Suite,
    check_assertion,
    evaluate,
    score_run,
)
from promptyard.storage import db  # noqa: E402
from promptyard.storage.tables import Cell, Run, Variant  # noqa: E402
from promptyard.versioning.init import init_workspace  # noqa: E402

WORDS = [
    "the",
    "order",
    "arrived",
    "late",
    "and",
    "the",
    "customer",
    "wants",
    "a",
    "refund",
    "for",
    "the",
    "damaged",
    "lamp",
    "today",
]
SCHEMA = {"type": "object", "required": ["total"], "properties": {"total": {"type": "number"}}}


def _outputs(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(60)) for _ in range(n)]


def _assertions() -> list[Assertion]:
    items = [
        Assertion("contains", "refund"),
        Assertion("icontains-any", ["REFUND", "sorry"]),
        Assertion("regex", r"\blamp\b.*\btoday\b"),
        Assertion("is-json"),
        Assertion("json-schema", SCHEMA),
        Assertion("json-field", 12, options={"path": "total"}),
        Assertion("length", options={"max": 100, "unit": "words"}),
        Assertion("length", options={"max": 200, "unit": "tokens"}),
        Assertion("levenshtein"),
        Assertion("rouge-l"),
        Assertion("bleu"),
    ]
    for a in items:
        check_assertion(a)
    return items


def bench_evaluators(n: int) -> None:
    outputs = _outputs(n)
    huge = " ".join(_outputs(1800))[:1_000_000]
    ctx = EvalContext(reference=" ".join(WORDS))
    print(f"\n### Code evaluators ({n} outputs of 60 words; one 1 MB output)\n")
    print("| evaluator | µs per output (median of 3) | 1 MB output (ms) |")
    print("|---|---:|---:|")
    for a in _assertions():
        label = a.type + (f" ({a.options['unit']})" if "unit" in a.options else "")
        rounds = []
        for _ in range(3):
            t0 = time.perf_counter()
            for out in outputs:
                evaluate(out, ctx, a)
            rounds.append((time.perf_counter() - t0) / n * 1e6)
        t0 = time.perf_counter()
        evaluate(huge, ctx, a)
        big_ms = (time.perf_counter() - t0) * 1e3
        print(f"| {label} | {statistics.median(rounds):.1f} | {big_ms:.1f} |")


def _seed_run(ws: object, cells: int) -> int:
    outputs = _outputs(cells, seed=11)

    def apply(s: object) -> int:
        run = Run(name="bench", status="completed", total_cells=cells, kind="run")
        s.add(run)  # type: ignore[attr-defined]
        s.flush()  # type: ignore[attr-defined]
        variant = Variant(run_id=run.id, prompt_name="summarize", model="sim-fast")  # type: ignore[arg-type]
        s.add(variant)  # type: ignore[attr-defined]
        s.flush()  # type: ignore[attr-defined]
        rows = [
            {
                "run_id": run.id,
                "variant_id": variant.id,
                "row_id": f"r{i}",
                "row_index": i,
                "repeat": 0,
                "inputs_json": json.dumps({"text": "x"}),
                "reference": " ".join(WORDS),
                "messages_json": "[]",
                "status": "ok",
                "output": out,
                "latency_ms": 100.0,
                "cost_usd": 0.0001,
                "cached": False,
                "attempts": 1,
            }
            for i, out in enumerate(outputs)
        ]
        s.execute(Cell.__table__.insert(), rows)  # type: ignore[attr-defined]
        return int(run.id)  # type: ignore[arg-type]

    return db.write(ws, apply)  # type: ignore[arg-type]


def bench_score_run(ws: object, cells: int) -> None:
    run_id = _seed_run(ws, cells)
    assertions = [
        Assertion("icontains", "refund", name="refund"),
        Assertion("not-regex", r"as an AI", name="no boilerplate"),
        Assertion("word-count", options={"max": 80}, name="short"),
        Assertion("rouge-l", threshold=0.2, name="rouge"),
        Assertion("latency", threshold=500, name="fast"),
        Assertion("cost", threshold=0.01, name="cheap"),
    ]
    suite = Suite(
        "bench", "evals/bench.yaml", prompts=["summarize"], assertions=assertions, row_threshold=0.5
    )
    print(f"\n### score_run over a stored run ({cells} cells x {len(assertions)} assertions)\n")
    print("| pass | seconds | cells/s | Score rows written |")
    print("|---|---:|---:|---:|")
    for label in ("first", "again (replaces)"):
        t0 = time.perf_counter()
        result = score_run(ws, run_id, suite)  # type: ignore[arg-type]
        dt = time.perf_counter() - t0
        print(
            f"| {label} | {dt:.2f} | {cells / dt:,.0f} | {len(result.cells) * (len(assertions) + 1):,} |"
        )


def bench_judges(ws: object, judged: int) -> None:
    from promptyard.models import start_simulator

    handle = start_simulator(latency_ms=0)
    os.environ["PROMPTYARD_SIMULATOR_URL"] = handle.url
    try:
        run_id = _seed_run(ws, judged)
        rubric = Assertion(
            "llm-rubric", "Mentions the refund.", name="judge", options={"prompt": "judge_rubric"}
        )
        suite = Suite(
            "judge", "evals/judge.yaml", prompts=["summarize"], assertions=[rubric], concurrency=8
        )
        score_run(
            ws, run_id, Suite("warm", "x", prompts=[], assertions=[rubric]), variant_ids=None
        )  # warm litellm
        t0 = time.perf_counter()
        result = score_run(ws, run_id, suite)  # type: ignore[arg-type]
        dt = time.perf_counter() - t0
        errors = sum(1 for c in result.cells if c.grades["judge"].error)
        print(f"\n### llm-rubric against the simulator ({judged} cells, concurrency 8)\n")
        print("| judge calls | seconds | calls/s | unparseable | judge cost (USD) |")
        print("|---:|---:|---:|---:|---:|")
        print(
            f"| {judged} | {dt:.2f} | {judged / dt:.0f} | {errors} | {result.judge_cost_usd:.4f} |"
        )
    finally:
        handle.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--outputs", type=int, default=2000)
    parser.add_argument("--cells", type=int, default=10_000)
    parser.add_argument("--judged", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws")
        bench_evaluators(args.outputs)
        bench_score_run(ws, args.cells)
        bench_judges(ws, args.judged)
        db.dispose_engines()


if __name__ == "__main__":
    main()
