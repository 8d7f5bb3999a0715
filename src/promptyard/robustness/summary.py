"""Robustness per prompt version and model, for the dashboard's robustness column.

For each (prompt, version, model) the latest scored robustness run gives the figure: the
share of variant outputs equivalent to their originals over every kind, and the kind
that broke it most. The verdicts are counted by `reading.verdict_counts`, as for the
run's own report (Compare's table, the CLI), so the two never tell different figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from promptyard.reading.perturbed import ROBUSTNESS_SUITE, verdict_counts
from promptyard.storage import db
from promptyard.storage.handles import ROBUSTNESS_RUN as SETTINGS
from promptyard.storage.handles import SCORE, VARIANT
from promptyard.workspace import Workspace


@dataclass(frozen=True)
class VariantRobustness:
    """The latest robustness figure of one prompt version on one model."""

    prompt_name: str
    prompt_version: int
    model: str
    run_id: int
    measure: str
    pairs: int
    consistent: int
    by_kind: dict[str, float]  # kind -> consistency, for kinds with compared pairs

    @property
    def consistency(self) -> float | None:
        return self.consistent / self.pairs if self.pairs else None

    @property
    def worst_kind(self) -> str | None:
        """The kind with the lowest consistency (None when nothing was compared)."""
        return min(self.by_kind, key=lambda k: self.by_kind[k]) if self.by_kind else None


def robustness_by_variant(ws: Workspace | str) -> list[VariantRobustness]:
    """Per (prompt, version, model), the figure of its latest scored robustness run."""
    with db.session(ws) as s:
        variants = s.execute(
            select(
                VARIANT.c.id,
                VARIANT.c.run_id,
                VARIANT.c.prompt_name,
                VARIANT.c.prompt_version,
                VARIANT.c.model,
            )
            .select_from(VARIANT.join(SETTINGS, SETTINGS.c.run_id == VARIANT.c.run_id))
            .order_by(VARIANT.c.run_id.desc())
        ).all()
        latest: dict[int, tuple[str, int, str, int]] = {}
        seen: set[tuple[str, int, str]] = set()
        scored_runs = {
            r
            for (r,) in s.execute(
                select(SCORE.c.run_id).where(SCORE.c.suite == ROBUSTNESS_SUITE).distinct()
            ).all()
        }
        for v in variants:
            key = (v.prompt_name, int(v.prompt_version or 0), v.model)
            if key in seen or v.run_id not in scored_runs:
                continue
            seen.add(key)
            latest[int(v.id)] = (*key, int(v.run_id))
    if not latest:
        return []
    totals: dict[int, dict[str, tuple[int, int]]] = {}
    measures: dict[int, str] = {}
    for c in verdict_counts(ws, variant_ids=latest):
        if not c.pairs:
            continue  # nothing compared under this kind: no figure, as on the report
        totals.setdefault(c.variant_id, {})[c.kind] = (c.pairs, c.consistent)
        measures[c.variant_id] = c.measure
    out = []
    for vid, (name, version, model, run_id) in latest.items():
        kinds = totals.get(vid, {})
        out.append(
            VariantRobustness(
                name,
                version,
                model,
                run_id,
                measures.get(vid, ""),
                sum(p for p, _ in kinds.values()),
                sum(c for _, c in kinds.values()),
                {k: c / p for k, (p, c) in kinds.items() if p},
            )
        )
    return out
