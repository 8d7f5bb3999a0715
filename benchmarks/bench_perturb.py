"""Robustness variants: 6 local perturbation kinds for 10,000 rows (the target: under 5 s).

Run: PYTHONPATH=src .venv/bin/python benchmarks/bench_perturb.py [--rows 10000] [--repeat 3]
Prints a markdown table: time per kind and for all six together (LLM paraphrase aside).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from promptyard.robustness import LOCAL_KINDS, perturb_rows  # noqa: E402


def example_rows(n: int) -> list[dict[str, str]]:
    """n rows cycled from the example datasets' text columns, each with its own id."""
    texts: list[str] = []
    for name, column in (("tickets", "message"), ("summaries", "text"), ("invoices", "document")):
        for line in (ROOT / "datasets" / f"{name}.jsonl").read_text().splitlines():
            texts.append(json.loads(line)[column])
    return [{"id": f"r-{i}", "text": texts[i % len(texts)], "n": str(i)} for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = example_rows(args.rows)
    print("| kinds | rows | variants | skipped | median s | best s |")
    print("|---|---:|---:|---:|---:|---:|")
    for kinds in [(k,) for k in LOCAL_KINDS] + [LOCAL_KINDS]:
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            made = perturb_rows(rows, ["text"], kinds, seed=7)
            times.append(time.perf_counter() - t0)
        label = "all six" if len(kinds) > 1 else kinds[0].value
        skipped = sum(made.skipped.values())
        print(
            f"| {label} | {len(rows):,} | {len(made.rows):,} | {skipped:,} | "
            f"{statistics.median(times):.2f} | {min(times):.2f} |"
        )


if __name__ == "__main__":
    main()
