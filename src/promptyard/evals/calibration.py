"""Judge calibration: how far an automatic judge agrees with people.

On the cells that carry both a human rating with a numeric score (current ratings only,
averaged over raters) and a judge's Score, report Pearson and Spearman correlation,
Cohen's kappa on pass/fail (human score >= 0.5 against the judge's verdict), raw agreement,
and the cells where the two differ most.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlmodel import col, select

from promptyard.storage import db
from promptyard.storage.tables import Cell, Rating, Score
from promptyard.workspace import Workspace


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def cohen_kappa(a: Sequence[bool], b: Sequence[bool]) -> float | None:
    """Cohen's kappa of two pass/fail raters (None when undefined)."""
    n = len(a)
    if n == 0:
        return None
    observed = sum(1 for x, y in zip(a, b, strict=True) if x == y) / n
    pa, pb = sum(a) / n, sum(b) / n
    expected = pa * pb + (1 - pa) * (1 - pb)
    if expected >= 1.0:
        return 1.0 if observed == 1.0 else None
    return (observed - expected) / (1 - expected)


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
        scores = s.exec(sq.order_by(col(Score.id))).all()
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
    return Calibration(
        evaluator=evaluator,
        n=len(both),
        pearson=_pearson(hs, js),
        spearman=_pearson(_ranks(hs), _ranks(js)) if len(both) >= 2 else None,
        kappa=cohen_kappa(h_pass, j_pass),
        agreement=(sum(1 for x, y in zip(h_pass, j_pass, strict=True) if x == y) / len(both))
        if both
        else None,
        disagreements=worst,
    )


__all__ = ["Calibration", "Disagreement", "calibrate", "cohen_kappa"]
