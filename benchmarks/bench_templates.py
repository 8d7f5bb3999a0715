"""What the render limits cost on ordinary prompts, and how fast hostile ones end.

Times `PromptTemplate.render` on the example prompts (and two loop-heavy ones) with
Promptyard's limited sandbox against Jinja's plain `SandboxedEnvironment` (what rendering
was before the limits), then renders the hostile templates of issue 14 under the default
2 s limit and prints how each ended and after how long.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_templates.py [--repeat 2000]

Prints two tables; the numbers go in docs/benchmarks.md ("## Templates").
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from jinja2 import StrictUndefined  # noqa: E402
from jinja2.sandbox import SandboxedEnvironment  # noqa: E402

from promptyard.prompts import PromptTemplate, TemplateError, parse_prompt  # noqa: E402

LOOPY = {
    "loop of 200 rows": (
        "user:\n{% for r in rows %}- {{ r.name|title }}: {{ '%.2f' % r.score }}\n{% endfor %}",
        {"rows": [{"name": f"row {i}", "score": i / 7} for i in range(200)]},
    ),
    "macro + join": (
        "user:\n{% macro item(x) %}<{{ x ~ '!' }}>{% endmacro %}"
        "{% for i in range(100) %}{{ item(i) }}{% endfor %} {{ words|join(', ') }}",
        {"words": [f"w{i}" for i in range(100)]},
    ),
}
HOSTILE = {
    "two nested range(100000) loops": (
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    ),
    "twelve nested loops of 10": "{% for a in range(10) %}" * 12 + "x" + "{% endfor %}" * 12,
    "((9**999)**999)**999": "{{ ((9**999)**999)**999 }}",
    "'%999999999d' % 1": "{{ '%999999999d' % 1 }}",
    "doubling a string 28 times": "{% set ns = namespace(s='ab') %}"
    "{% for i in range(28) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
    "exponential macro recursion": "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}"
    "{% endif %}{% endmacro %}{{ f(60) }}",
}

_PLAIN = SandboxedEnvironment(
    undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True
)


def _plain_render(template: PromptTemplate, values: dict[str, Any]) -> list[dict[str, str]]:
    compiled = [_PLAIN.from_string(m.text) for m in template.messages]
    return [
        {"role": m.role, "content": c.render(values).strip("\n")}
        for m, c in zip(template.messages, compiled, strict=True)
    ]


def _per_render_us(fn: Any, repeat: int) -> float:
    fn()  # compile and warm the caches
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat // 5):
            fn()
        runs.append((time.perf_counter() - start) / (repeat // 5) * 1e6)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()

    cases: dict[str, tuple[PromptTemplate, dict[str, Any]]] = {}
    for file in sorted((ROOT / "prompts").glob("*.prompty")):
        template = parse_prompt(file.read_text(), file.stem)
        values = {v: template.samples.get(v, "some text") for v in template.variables}
        cases[file.stem] = (template, values)
    for name, (body, values) in LOOPY.items():
        cases[name] = (parse_prompt(body, "loopy"), values)

    print("Ordinary prompts: µs per render (median of 5 batches)\n")
    print(f"| {'prompt':<22} | {'plain sandbox':>13} | {'with limits':>11} | {'ratio':>5} |")
    print(f"|{'-' * 24}|{'-' * 15}:|{'-' * 13}:|{'-' * 7}:|")
    for name, (template, values) in cases.items():
        compiled_once = [_PLAIN.from_string(m.text) for m in template.messages]

        def plain(c: list[Any] = compiled_once, v: dict[str, Any] = values) -> None:
            for comp in c:
                comp.render(v)

        assert _plain_render(template, values) == template.render(values)
        before = _per_render_us(plain, args.repeat)
        after = _per_render_us(lambda t=template, v=values: t.render(v), args.repeat)
        print(f"| {name:<22} | {before:>13.1f} | {after:>11.1f} | {after / before:>5.2f} |")

    print("\nHostile templates under the default limits (2 s, 2,000,000 characters)\n")
    print(f"| {'template':<30} | {'ended after':>11} | how |")
    print(f"|{'-' * 32}|{'-' * 13}:|-----|")
    for name, body in HOSTILE.items():
        template = parse_prompt(body, "hostile")
        start = time.perf_counter()
        try:
            template.render()
            how = "rendered"
        except TemplateError as exc:
            how = f"{type(exc).__name__}: {exc.reason[:60]}"
        took = time.perf_counter() - start
        print(f"| {name:<30} | {took:>9.2f} s | {how} |")


if __name__ == "__main__":
    main()
