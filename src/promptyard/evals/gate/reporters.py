"""The gate's result for a terminal (`table`) and a pull-request comment (`markdown`);
JUnit XML is in `junit`, the JSON contract in `contract`."""

from __future__ import annotations

import re

from promptyard.evals.gate.result import GateResult
from promptyard.evals.scoring import CellResult
from promptyard.runs import format_usd


def _failed_reasons(
    cell: CellResult, limit: int = 3, weights: dict[str, float] | None = None
) -> str:
    """The failed assertions of a cell, the ones that count (weight > 0) first."""
    weights = weights or {}
    failed = [(name, g) for name, g in cell.grades.items() if not g.passed]
    failed.sort(key=lambda item: weights.get(item[0], 1.0) <= 0)
    bad = [f"{name}: {g.reason}" for name, g in failed]
    return "; ".join(bad[:limit]) + (f" (+{len(bad) - limit} more)" if len(bad) > limit else "")


def _usd(value: float | None) -> str:
    # a cost nobody could price is unknown, not $0
    return "unknown" if value is None else format_usd(value)


def _weights(result: GateResult) -> dict[str, float]:
    return {a.name: a.weight for a in result.suite.assertions}


def table(result: GateResult) -> str:
    """The comparison as a plain-text table for a terminal."""
    head = ["prompt", "model", "baseline", "pass", "current", "pass", "change", "verdict"]
    rows = [head]
    for c in result.comparisons:
        rows.append(
            [
                c.prompt,
                c.model,
                c.baseline_desc,
                f"{c.baseline.pass_rate:.0%}" if c.baseline else "-",
                c.current_desc,
                f"{c.current.pass_rate:.0%}",
                f"{c.delta * 100:+.0f} pts" if c.delta is not None else "-",
                c.verdict,
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    status = "PASSED" if result.passed else "FAILED"
    lines.append("")
    lines.append(
        f"suite {result.suite.name}: {status} (threshold {result.suite.threshold:.0%}, "
        f"tolerance {result.suite.tolerance:.0%}); run #{result.run_id}; "
        f"cost {_usd(result.model_cost_usd)} + judge {_usd(result.judge_cost_usd)}"
    )
    lines += [f"  - {p}" for p in result.problems]
    return "\n".join(lines)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def md_escape(text: str, limit: int = 160) -> str:
    """Text safe inside a Markdown table cell (no markup, no HTML, one line)."""
    one = " ".join(str(text).split())
    if len(one) > limit:
        one = one[: limit - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", one)


def markdown(result: GateResult) -> str:
    """A summary for a pull-request comment."""
    icon = "✅" if result.passed else "❌"
    s = result.suite
    out = [
        f"## {icon} Promptyard eval `{s.name}`: {'passed' if result.passed else 'failed'}",
        "",
        f"Threshold {s.threshold:.0%} of cells per prompt and model, tolerance "
        f"{s.tolerance:.0%} against the baseline. Run #{result.run_id}, "
        f"cost {_usd(result.model_cost_usd)} + judge {_usd(result.judge_cost_usd)}.",
        "",
        "| prompt | model | baseline | pass | current | pass | change | verdict |",
        "|---|---|---|---:|---|---:|---:|---|",
    ]
    for c in result.comparisons:
        out.append(
            f"| {md_escape(c.prompt)} | {md_escape(c.model)} | {md_escape(c.baseline_desc)} | "
            f"{f'{c.baseline.pass_rate:.0%}' if c.baseline else '–'} | {md_escape(c.current_desc)} | "
            f"{c.current.pass_rate:.0%} | {f'{c.delta * 100:+.0f} pts' if c.delta is not None else '–'} | "
            f"{'✅' if c.verdict == 'PASS' else '❌'} {c.verdict} |"
        )
    if result.problems:
        out += ["", "**Why it failed**", ""] + [f"- {md_escape(p, 300)}" for p in result.problems]
    out += [
        "",
        "<details><summary>Assertions (pass rate, current vs baseline)</summary>",
        "",
        "| assertion | "
        + " | ".join(md_escape(f"{c.prompt} · {c.model}") for c in result.comparisons)
        + " |",
        "|---|" + "---:|" * len(result.comparisons),
    ]
    for a in s.assertions:
        cells = []
        for c in result.comparisons:
            now = c.current.assertion_pass_rates.get(a.name, 0.0)
            then = c.baseline.assertion_pass_rates.get(a.name) if c.baseline else None
            cells.append(f"{now:.0%}" + (f" (was {then:.0%})" if then is not None else ""))
        out.append(f"| {md_escape(a.name)} | " + " | ".join(cells) + " |")
    out += ["", "</details>"]
    failing = [cell for c in result.comparisons for cell in c.newly_failing]
    if failing:
        out += ["", "**Rows that passed on the baseline and fail now**", ""]
        for cell in failing[:10]:
            out.append(
                f"- `{md_escape(cell.row_id, 60)}`: {md_escape(_failed_reasons(cell, weights=_weights(result)), 300)}"
            )
        if len(failing) > 10:
            out.append(f"- … and {len(failing) - 10} more")
    if result.scores.evaluator_errors:
        out += ["", "**Evaluator errors**", ""] + [
            f"- {md_escape(e, 300)}" for e in result.scores.evaluator_errors[:5]
        ]
    if result.custom_code:
        out += [
            "",
            f"_This suite ran custom Python evaluators from the repository: {', '.join(md_escape(x) for x in result.custom_code)}._",
        ]
    return "\n".join(out) + "\n"
