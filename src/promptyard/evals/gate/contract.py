"""The JSON of `promptyard eval --json`: one object, a stable contract for machines.

Documented field by field in docs/ci.md. `schema_version` changes only when a field is
removed or changes meaning; new fields may appear in any release.
"""

from __future__ import annotations

from typing import Any

from promptyard.evals.gate.cells import CellFacts, VariantInfo
from promptyard.evals.gate.result import GateResult
from promptyard.evals.scoring import CellResult

JSON_SCHEMA_VERSION = 1


def _case(
    fact: CellFacts, cell: CellResult | None, variant: VariantInfo, result: GateResult
) -> dict[str, Any]:
    types = {a.name: a.type for a in result.suite.assertions}
    weights = {a.name: a.weight for a in result.suite.assertions}
    status = "skipped" if not fact.ran or cell is None else ("error" if fact.errored else "ok")
    return {
        "row_id": fact.row_id,
        "repeat": fact.repeat,
        "cell_id": fact.cell_id,
        "variant": variant.to_dict(),
        "status": status,
        "passed": None if cell is None else cell.passed,
        "score": None if cell is None else cell.score,
        "latency_ms": fact.latency_ms,
        "cost_usd": fact.cost_usd,
        "cached": fact.cached,
        "error": None
        if not fact.errored
        else {"kind": fact.error_kind, "message": fact.error_message},
        "assertions": []
        if cell is None
        else [
            {
                "name": name,
                "type": types.get(name, name),
                "passed": g.passed,
                "score": g.value,
                "reason": g.reason,
                "weight": weights.get(name, 1.0),
                "error": g.error,
            }
            for name, g in cell.grades.items()
        ],
    }


def json_report(result: GateResult) -> dict[str, Any]:
    """The gate's result as the documented JSON object (docs/ci.md, "JSON output")."""
    variants = {v.variant_id: v for v in result.variants}
    cells = {c.cell_id: c for c in result.scores.cells}
    cases = [
        _case(f, cells.get(f.cell_id), variants[f.variant_id], result)
        for f in result.facts
        if f.variant_id in variants
    ]
    ran = [c for c in cases if c["status"] != "skipped"]
    summary = {
        "cases": len(cases),
        "passed": sum(1 for c in ran if c["passed"]),
        "failed": sum(1 for c in ran if not c["passed"] and c["status"] == "ok"),
        "errors": sum(1 for c in ran if c["status"] == "error"),
        "skipped": len(cases) - len(ran),
        "latency_ms_total": sum(c["latency_ms"] or 0.0 for c in ran),
        "model_cost_usd": result.model_cost_usd,
        "judge_cost_usd": result.judge_cost_usd,
        "comparisons": len(result.comparisons),
        "comparisons_passed": sum(1 for c in result.comparisons if c.verdict == "PASS"),
    }
    return {
        "schema_version": JSON_SCHEMA_VERSION,
        **result.to_dict(),
        "baseline": result.baseline,
        "run_message": result.run_message,
        "started_at": result.started_at.isoformat() if result.started_at else None,
        "trust": result.trust,
        "summary": summary,
        "cases": cases,
    }
