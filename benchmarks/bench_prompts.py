"""How long parsing and rendering a `.prompty` file take, next to the prompty package.

For each example prompt, and a thread and a Mustache prompt from the Prompty corpus, times
Promptyard's parse and render (a run renders once per dataset row) and prompty 2's
`prepare` with the same inputs.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_prompts.py [--repeat 2000]

Prints a table of microseconds per call (median of 5 batches).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import prompty

from promptyard.prompts import parse_prompt

ROOT = Path(__file__).resolve().parent.parent
FILES = [
    *sorted((ROOT / "prompts").glob("*.prompty")),
    ROOT / "tests/fixtures/prompty/spec/threaded.prompty",
    ROOT / "tests/fixtures/prompty/mustache/basic_mustache.prompty",
]


def _us(fn: Callable[[], Any], repeat: int) -> float:
    batches = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        batches.append((time.perf_counter() - start) / repeat * 1e6)
    return statistics.median(batches)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()
    print(f"{'prompt':<28}{'parse µs':>10}{'render µs':>11}{'prompty prepare µs':>20}")
    for path in FILES:
        text = path.read_text()
        template = parse_prompt(text, path.stem)
        values: dict[str, Any] = dict(template.samples)
        for name in [*template.variables, *template.thread_inputs]:
            if template.inputs.get(name, {}).get("kind") == "thread":
                values[name] = [{"role": "user", "content": "hi"}]
            values.setdefault(name, template.defaults.get(name, "some text"))
        agent = prompty.load(str(path)) if "template: mustache" not in text else None
        # Default arguments bind this iteration's values (the lambdas run right away anyway).
        parse = _us(lambda t=text, n=path.stem: parse_prompt(t, n), max(1, args.repeat // 10))
        render = _us(lambda t=template, v=values: t.render(v), args.repeat)
        oracle = (
            _us(lambda a=agent, v=values: prompty.prepare(a, v), args.repeat // 4)
            if agent
            else None
        )
        shown = f"{oracle:>20.1f}" if oracle is not None else f"{'(classic layout)':>20}"
        print(f"{path.name:<28}{parse:>10.1f}{render:>11.1f}{shown}")


if __name__ == "__main__":
    main()
