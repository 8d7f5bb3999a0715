"""What earlier scoring stored for a run, read back for pages (nothing is recomputed)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from promptyard.evals.suites import ROW_SCORE
from promptyard.storage import db
from promptyard.storage.tables import Variant
from promptyard.workspace import Workspace


@dataclass
class StoredSuiteResult:
    """A suite's stored scores on one variant of a run, as pages show them."""

    suite: str
    variant_id: int
    label: str
    cells: int
    passed: int
    mean_score: float | None
    judge_cost_usd: float
    assertions: dict[str, float]  # assertion name -> pass rate

    @property
    def pass_rate(self) -> float:
        return self.passed / self.cells if self.cells else 0.0


def stored_results(ws: Workspace, run_id: int, suite: str | None = None) -> list[StoredSuiteResult]:
    """What earlier scoring stored for a run, per suite and variant (nothing is recomputed).

    For the Compare page and the dashboard: one SQL aggregate over the Score table.
    """
    from sqlalchemy import text

    sql = """SELECT s.suite, c.variant_id, s.evaluator, s.name, COUNT(*) AS n,
               SUM(CASE WHEN s.passed THEN 1 ELSE 0 END) AS n_passed, AVG(s.value) AS mean_value,
               SUM(COALESCE(s.judge_cost_usd, 0)) AS judge_cost
             FROM score s JOIN cell c ON c.id = s.cell_id
             WHERE s.run_id = :run_id AND (CAST(:suite AS TEXT) IS NULL OR s.suite = :suite)
             GROUP BY s.suite, c.variant_id, s.evaluator, s.name
             ORDER BY s.suite, c.variant_id"""
    with db.session(ws) as s:
        rows = s.execute(text(sql), {"run_id": run_id, "suite": suite}).all()
        labels = {v.id: v.label for v in s.exec(select(Variant).where(Variant.run_id == run_id))}
    out: dict[tuple[str, int], StoredSuiteResult] = {}
    for suite_name, variant_id, evaluator, name, n, n_passed, mean_value, judge_cost in rows:
        key = (suite_name or "", int(variant_id))
        item = out.setdefault(
            key, StoredSuiteResult(key[0], key[1], labels.get(key[1], "?"), 0, 0, None, 0.0, {})
        )
        item.judge_cost_usd += float(judge_cost or 0.0)
        if evaluator == "suite" and name == ROW_SCORE:
            item.cells, item.passed = int(n), int(n_passed or 0)
            item.mean_score = None if mean_value is None else float(mean_value)
        else:
            item.assertions[name] = int(n_passed or 0) / int(n) if n else 0.0
    return list(out.values())
