"""What earlier scoring stored for a run, read back for pages (nothing is recomputed)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from promptyard.evals.suites import ROW_SCORE
from promptyard.reading import EVERY_SUITE, ScoreGroup, score_groups
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

    For the Compare page and the dashboard: the run's scores summed per variant, kept
    while the run's scores are unchanged (reading.score_groups).
    """
    # Scores with and without a verdict are kept apart; a suite result counts them all.
    merged: dict[tuple[str, int, str, str], list[ScoreGroup]] = {}
    for g in score_groups(ws, [run_id]):
        if g.suite != EVERY_SUITE and (suite is None or g.suite == suite):
            merged.setdefault((g.suite, g.variant_id, g.evaluator, g.name), []).append(g)
    with db.session(ws) as s:
        labels = {v.id: v.label for v in s.exec(select(Variant).where(Variant.run_id == run_id))}
    out: dict[tuple[str, int], StoredSuiteResult] = {}
    for (suite_name, variant_id, evaluator, name), parts in sorted(merged.items()):
        key = (suite_name, variant_id)
        item = out.setdefault(
            key, StoredSuiteResult(key[0], key[1], labels.get(key[1], "?"), 0, 0, None, 0.0, {})
        )
        n, n_passed = sum(g.n for g in parts), sum(g.n_passed for g in parts)
        value_n = sum(g.value_n for g in parts)
        item.judge_cost_usd += sum(g.judge_cost_usd for g in parts)
        if evaluator == "suite" and name == ROW_SCORE:
            item.cells, item.passed = n, n_passed
            item.mean_score = sum(g.value_sum for g in parts) / value_n if value_n else None
        else:
            item.assertions[name] = n_passed / n if n else 0.0
    return list(out.values())
