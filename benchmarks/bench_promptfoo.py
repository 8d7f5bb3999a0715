"""How fast the promptfoo-named evaluators are, and `import_promptfoo` on a large config.

1. Each similarity / JSON / CSV-list evaluator and `row-assertions` on 2,000 outputs of
   60 words (median of 3 rounds).
2. Importing a generated promptfoo config of N echo tests (default 1,000), each with
   its own assertions: reading, building, validating and committing three files.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_promptfoo.py [--tests 1000]

Prints tables; the numbers go in docs/benchmarks.md ("## promptfoo names and the import").
"""

from __future__ import annotations

import argparse
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

from promptyard.evals import Assertion, EvalContext, check_assertion, evaluate  # noqa: E402

WORDS = [
    "refund",
    "lamp",
    "today",
    "sorry",
    "order",
    "broken",
    "desk",
    "motor",
    "leg",
    "replacement",
    "technician",
]


def bench_evaluators(n: int) -> None:
    rng = random.Random(7)
    outputs = [" ".join(rng.choice(WORDS) for _ in range(60)) for _ in range(n)]
    ctx = EvalContext(reference=" ".join(WORDS))
    date_schema = {"type": "object", "properties": {"d": {"type": "string", "format": "date"}}}
    row = {
        "assert": [
            {"type": "contains", "value": "refund"},
            {"type": "icontains", "value": "LAMP"},
            {"type": "regex", "value": "(?<w>today)"},
        ]
    }
    items = [
        Assertion("levenshtein"),
        Assertion("similarity-ratio"),
        Assertion("rouge-n"),
        Assertion("rouge-l"),
        Assertion("bleu"),
        Assertion("contains-any", '"a, b", refund'),
        Assertion("contains-json"),
        Assertion("is-json", date_schema),
        Assertion("row-assertions", row),
    ]
    print(f"\n### Evaluators ({n} outputs of 60 words)\n")
    print("| evaluator | µs per output (median of 3) |")
    print("|---|---:|")
    for a in items:
        check_assertion(a)
        rounds = []
        for _ in range(3):
            t0 = time.perf_counter()
            for out in outputs:
                evaluate(out, ctx, a)
            rounds.append((time.perf_counter() - t0) / n * 1e6)
        print(f"| {a.type} | {statistics.median(rounds):.1f} |")


def bench_import(tests: int) -> None:
    from promptyard.evals.promptfoo_import import import_promptfoo
    from promptyard.versioning.init import init_workspace
    from promptyard.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        for var in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
            os.environ.setdefault(var, "bench")
        for var in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
            os.environ.setdefault(var, "bench@example.com")
        ws = Workspace(init_workspace(Path(tmp) / "ws").root)
        project = Path(tmp) / "big"
        project.mkdir()
        lines = ["prompts: ['{{input}}']", "providers: [echo]", "tests:"]
        for i in range(tests):
            lines += [
                f"  - vars: {{input: 'message {i}'}}",
                "    assert:",
                f"      - {{type: contains, value: '{i}'}}",
                *(["      - {type: icontains, value: MESSAGE}"] if i % 2 else []),
            ]
        (project / "promptfooconfig.yaml").write_text("\n".join(lines) + "\n")
        t0 = time.perf_counter()
        report = import_promptfoo(ws, project / "promptfooconfig.yaml")
        seconds = time.perf_counter() - t0
    print(f"\n### import_promptfoo ({tests} tests)\n")
    print("| tests | rows | seconds | tests/s |")
    print("|---:|---:|---:|---:|")
    print(f"| {tests} | {report.rows} | {seconds:.2f} | {tests / seconds:,.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--outputs", type=int, default=2000)
    parser.add_argument("--tests", type=int, default=1000)
    args = parser.parse_args()
    bench_evaluators(args.outputs)
    bench_import(args.tests)


if __name__ == "__main__":
    main()
