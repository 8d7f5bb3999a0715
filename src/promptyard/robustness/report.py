"""Scoring a robustness run and reading its consistency per kind, prompt version and model.

`score_robustness` compares every variant cell with its original's cell and stores one
Score row per variant cell (suite `robustness`, evaluator `consistency`, name = the
measure); re-scoring replaces them. `robustness_report` reads them back as figures.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import delete, select

from promptyard.errors import NotFoundError
from promptyard.reading.perturbed import perturbation_pairs, verdict_counts
from promptyard.robustness.consistency import EVALUATOR, SUITE, MeasureSpec, Pair, compare_pairs
from promptyard.storage import bump_score_generation, db
from promptyard.storage.handles import SCORE, VARIANT
from promptyard.storage.tables import CellStatus, Run, Score
from promptyard.storage.tables_robustness import RobustnessRun
from promptyard.workspace import Workspace


@dataclass
class ConsistencyFigure:
    """How often one variant (prompt version x model) kept its answer under one kind."""

    kind: str  # a perturbation kind, or "all" over every kind
    variant_id: int
    prompt_name: str
    prompt_version: int | None
    model: str
    pairs: int = 0  # compared pairs (errors left out)
    consistent: int = 0
    errors: int = 0  # a call failed or the measure could not decide

    @property
    def consistency(self) -> float | None:
        """consistent / pairs; None when no pair could be compared (never 0 for unknown)."""
        return self.consistent / self.pairs if self.pairs else None

    @property
    def version_label(self) -> str:
        return f"v{self.prompt_version}" if self.prompt_version else "draft"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["version"] = self.version_label
        out["consistency"] = None if self.consistency is None else round(self.consistency, 4)
        return out


@dataclass
class RobustnessReport:
    """A robustness run's figures: per kind x variant, and over all kinds per variant."""

    run_id: int
    measure: str | None  # None: not scored yet
    kinds: list[str]
    columns: list[str]
    seed: int
    skipped: dict[str, int]
    figures: list[ConsistencyFigure] = field(default_factory=list)  # kind x variant
    overall: list[ConsistencyFigure] = field(default_factory=list)  # kind "all", per variant

    def labels(self) -> list[str]:
        """The variants as "prompt vN · model", in the run's order."""
        return [f"{f.prompt_name} {f.version_label} · {f.model}" for f in self.overall]

    def matrix(self) -> list[tuple[str, list[ConsistencyFigure | None]]]:
        """One row per kind (then "all"), one figure per variant in `labels()` order."""
        order = [f.variant_id for f in self.overall]
        by_key = {(f.kind, f.variant_id): f for f in self.figures}
        rows: list[tuple[str, list[ConsistencyFigure | None]]] = [
            (kind, [by_key.get((kind, vid)) for vid in order])
            for kind in self.kinds
            if any((kind, vid) in by_key for vid in order)
        ]
        if self.overall:
            rows.append(("all", list(self.overall)))
        return rows

    def below(self, threshold: float) -> list[ConsistencyFigure]:
        """The figures under `threshold` (a figure with nothing compared is not below)."""
        return [f for f in self.figures if f.consistency is not None and f.consistency < threshold]

    def to_dict(self, min_consistency: float | None = None) -> dict[str, Any]:
        """The `--json` contract: run, measure, skipped rows, figures per kind/version/model."""
        out: dict[str, Any] = {
            "run_id": self.run_id,
            "measure": self.measure,
            "seed": self.seed,
            "columns": self.columns,
            "kinds": self.kinds,
            "skipped": self.skipped,
            "results": [f.to_dict() for f in self.figures],
            "overall": [f.to_dict() for f in self.overall],
        }
        if min_consistency is not None:
            below = self.below(min_consistency)
            out["min_consistency"] = min_consistency
            out["passed"] = not below
            out["below"] = [f.to_dict() for f in below]
        return out


def _settings(s: Any, run_id: int) -> RobustnessRun:
    settings = s.get(RobustnessRun, run_id)
    if settings is None:
        if s.get(Run, run_id) is None:
            raise NotFoundError(f"no run {run_id}")
        raise NotFoundError(f"run {run_id} is not a robustness run")
    return settings


def load_pairs(ws: Workspace, run_id: int) -> list[Pair]:
    """Every (original cell, variant cell) pair of the run, in variant-cell order.

    Raises NotFoundError when the run does not exist or is not a robustness run.
    """
    with db.session(ws) as s:
        _settings(s, run_id)

    def error(status: CellStatus, message: str | None) -> str | None:
        return message or ("not sent" if status == CellStatus.PENDING else None)

    return [
        Pair(
            variant_cell_id=p.variant_cell_id,
            run_id=run_id,
            original_output=p.original_output,
            variant_output=p.variant_output,
            original_error=error(p.original_status, p.original_error),
            variant_error=error(p.variant_status, p.variant_error),
            inputs=p.original_inputs,
            variant_inputs=p.variant_inputs,
            reference=p.reference,
            model=p.model,
            prompt_name=p.prompt_name,
        )
        for p in perturbation_pairs(ws, run_id, limit=None).pairs
    ]


async def score_robustness_async(
    ws: Workspace, run_id: int, spec: MeasureSpec | None = None
) -> RobustnessReport:
    """Compare every pair of the run under `spec` (default: exact), store the verdicts as
    Score rows (replacing earlier ones) and return the report."""
    spec = spec or MeasureSpec()
    pairs = await asyncio.to_thread(load_pairs, ws, run_id)
    outcomes = await compare_pairs(ws, spec, pairs)

    def store(s: Any) -> None:
        s.execute(delete(SCORE).where(SCORE.c.run_id == run_id, SCORE.c.suite == SUITE))
        bump_score_generation(s, [run_id])  # sums kept from the old verdicts are now old
        s.add_all(
            Score(
                cell_id=p.variant_cell_id,
                run_id=run_id,
                evaluator=EVALUATOR,
                name=spec.name,
                suite=SUITE,
                value=o.value,
                passed=o.consistent,
                reason=o.reason[:1000],
                judge_cost_usd=o.judge_cost_usd,
            )
            for p, o in zip(pairs, outcomes, strict=True)
        )

    await asyncio.to_thread(db.write, ws, store)
    return await asyncio.to_thread(robustness_report, ws, run_id)


def score_robustness(
    ws: Workspace, run_id: int, spec: MeasureSpec | None = None
) -> RobustnessReport:
    """`score_robustness_async` for callers without an event loop."""
    return asyncio.run(score_robustness_async(ws, run_id, spec))


def robustness_report(ws: Workspace, run_id: int) -> RobustnessReport:
    """The stored consistency of the run per kind x variant (figures empty until scored).

    Raises NotFoundError when the run does not exist or is not a robustness run.
    """
    with db.session(ws) as s:
        settings = _settings(s, run_id)
        variants = {
            v.id: v
            for v in s.execute(
                select(VARIANT).where(VARIANT.c.run_id == run_id).order_by(VARIANT.c.position)
            ).all()
        }
    counts = verdict_counts(ws, run_id=run_id)
    kinds = json.loads(settings.kinds_json)
    report = RobustnessReport(
        run_id,
        counts[0].measure if counts else None,
        kinds,
        json.loads(settings.columns_json),
        settings.seed,
        json.loads(settings.skipped_json),
    )
    if not counts:
        return report

    def figure(kind: str, vid: int) -> ConsistencyFigure:
        v = variants[vid]
        return ConsistencyFigure(kind, vid, v.prompt_name, v.prompt_version, v.model)

    table: dict[tuple[str, int], ConsistencyFigure] = {}
    overall: dict[int, ConsistencyFigure] = {vid: figure("all", vid) for vid in variants}
    for c in counts:
        for f in (
            table.setdefault((c.kind, c.variant_id), figure(c.kind, c.variant_id)),
            overall[c.variant_id],
        ):
            f.pairs += c.pairs
            f.consistent += c.consistent
            f.errors += c.errors
    rank: Callable[[str], int] = lambda k: kinds.index(k) if k in kinds else len(kinds)  # noqa: E731
    positions = {vid: i for i, vid in enumerate(variants)}
    report.figures = sorted(table.values(), key=lambda f: (rank(f.kind), positions[f.variant_id]))
    report.overall = [overall[vid] for vid in variants]
    return report
