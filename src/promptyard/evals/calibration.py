"""Judge calibration: how far an automatic judge agrees with people.

On the cells that carry both a human rating with a numeric score (current ratings only,
averaged over raters) and a judge's Score, report Pearson and Spearman correlation,
Cohen's kappa on pass/fail (human score >= 0.5 against the judge's verdict), raw agreement,
and the cells where the two differ most. The statistics are `promptyard.stats`'; one that
is undefined is None, with the reason in `Calibration.reasons`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlmodel import col, select

from promptyard.reading import score_groups
from promptyard.stats import (
    Estimate,
    cohen_kappa,
    cohen_kappa_estimate,
    pearson_estimate,
    spearman_estimate,
)
from promptyard.storage import db
from promptyard.storage.tables import Cell, Rating, Score
from promptyard.workspace import Workspace

NO_CELLS = "no cell has both a human rating and a judge's score"


@dataclass
class Disagreement:
    cell_id: int
    run_id: int
    row_id: str
    human: float
    judge: float
    reason: str | None
    output: str | None


@dataclass
class Calibration:
    """How far a judge agrees with people on the cells both scored."""

    evaluator: str
    n: int
    pearson: float | None
    spearman: float | None
    kappa: float | None  # Cohen's kappa on pass/fail (human >= 0.5 vs the judge's verdict)
    agreement: float | None  # the fraction of cells where both say pass or both say fail
    disagreements: list[Disagreement]
    reasons: dict[str, str] = field(default_factory=dict)  # statistic -> why it is None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def calibrate(
    ws: Workspace,
    evaluator: str = "llm-rubric",
    *,
    run_id: int | None = None,
    scheme: str | None = None,
    name: str | None = None,
    top: int = 10,
) -> Calibration:
    """Agreement between human ratings (Rating.score, averaged over raters) and a judge's
    Score.value on the same cells, with the `top` cells where they differ most."""
    # A run the judge never scored (most are scored by the default checks alone) is known
    # from its kept score sums, without reading its millions of scores.
    judged_here = run_id is None or any(
        g.evaluator == evaluator for g in score_groups(ws, [run_id])
    )
    with db.session(ws) as s:
        rq = select(Rating).where(
            col(Rating.superseded_by).is_(None), col(Rating.score).is_not(None)
        )
        sq = select(Score).where(Score.evaluator == evaluator, col(Score.value).is_not(None))
        if run_id is not None:
            rq = rq.where(Rating.run_id == run_id)
            sq = sq.where(Score.run_id == run_id)
        if scheme:
            rq = rq.where(Rating.scheme == scheme)
        if name:
            sq = sq.where(Score.name == name)
        ratings = s.exec(rq).all()
        scores = s.exec(sq.order_by(col(Score.id))).all() if judged_here else []
        human: dict[int, list[float]] = {}
        for r in ratings:
            human.setdefault(r.cell_id, []).append(float(r.score or 0.0))
        judged: dict[int, Score] = {sc.cell_id: sc for sc in scores}  # the latest per cell
        both = sorted(set(human) & set(judged))
        cells = (
            {c.id: c for c in s.exec(select(Cell).where(col(Cell.id).in_(both))).all()}
            if both
            else {}
        )
    hs = [sum(human[c]) / len(human[c]) for c in both]
    js = [float(judged[c].value or 0.0) for c in both]
    h_pass = [h >= 0.5 for h in hs]
    j_pass = [bool(judged[c].passed) for c in both]
    pairs = sorted(zip(both, hs, js, strict=True), key=lambda t: -abs(t[1] - t[2]))
    worst = [
        Disagreement(c, cells[c].run_id, cells[c].row_id, h, j, judged[c].reason, cells[c].output)
        for c, h, j in pairs[:top]
        if c in cells
    ]
    agreement = (
        Estimate(sum(1 for x, y in zip(h_pass, j_pass, strict=True) if x == y) / len(both))
        if both
        else Estimate.undefined(NO_CELLS)
    )
    estimates = {
        "pearson": pearson_estimate(hs, js),
        "spearman": spearman_estimate(hs, js),
        "kappa": cohen_kappa_estimate(h_pass, j_pass),
        "agreement": agreement,
    }
    return Calibration(
        evaluator=evaluator,
        n=len(both),
        pearson=estimates["pearson"].value,
        spearman=estimates["spearman"].value,
        kappa=estimates["kappa"].value,
        agreement=estimates["agreement"].value,
        disagreements=worst,
        reasons={k: e.reason for k, e in estimates.items() if e.reason},
    )


# cohen_kappa is re-exported for callers of calibration; its one copy is in stats.
__all__ = ["Calibration", "Disagreement", "calibrate", "cohen_kappa"]
