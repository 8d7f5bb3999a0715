"""Agreement between human raters of a run, per rating scheme, and the disputed cells."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, select

from promptyard.ratings.core import RatingScheme, load_schemes
from promptyard.stats import cohen_kappa, dispute, fleiss_kappa, krippendorff_alpha
from promptyard.storage import db
from promptyard.storage.tables import Cell, Rating, Variant
from promptyard.workspace import Workspace


@dataclass(frozen=True)
class DisputedCell:
    cell_id: int
    row_id: str
    variant: str
    dispute: float  # 0 = all raters agree, 1 = as far apart as the scale allows
    values: dict[str, Any]  # rater -> value


@dataclass(frozen=True)
class SchemeAgreement:
    """How well raters agree under one scheme.

    `cohen_kappa` is set when exactly two raters rated the shared cells; `fleiss_kappa`
    for any number of raters (nominal); `krippendorff_alpha` always where two or more
    ratings meet (interval distance for numeric schemes, nominal otherwise).
    """

    scheme: str
    level: str
    raters: list[str]
    cells_rated: int
    cells_shared: int  # cells with two or more raters
    cohen_kappa: float | None = None
    fleiss_kappa: float | None = None
    krippendorff_alpha: float | None = None
    disputed: list[DisputedCell] = field(default_factory=list)

    @property
    def method(self) -> str:
        if self.cohen_kappa is not None:
            return "Cohen's kappa"
        return "Fleiss' kappa" if self.fleiss_kappa is not None else "Krippendorff's alpha"


def _nominal(value: Any) -> Any:
    # A set of labels is one nominal value: raters agree when they picked the same set.
    return json.dumps(value, sort_keys=True) if isinstance(value, list | dict) else value


def scheme_agreement(
    ws: Workspace, run_id: int, scheme: RatingScheme, top: int = 10
) -> SchemeAgreement:
    """Agreement of the ratings in force under `scheme` in a run, and the `top` most
    disputed cells."""
    with db.session(ws) as s:
        rows = s.exec(
            select(Rating, Cell.row_id, Variant)
            .join(Cell, col(Cell.id) == Rating.cell_id)
            .join(Variant, col(Variant.id) == Cell.variant_id)
            .where(
                Rating.run_id == run_id,
                Rating.scheme == scheme.name,
                col(Rating.superseded_by).is_(None),
            )
        ).all()
    by_cell: dict[int, dict[str, Any]] = defaultdict(dict)
    meta: dict[int, tuple[str, str]] = {}
    for rating, row_id, variant in rows:
        by_cell[rating.cell_id][rating.rater] = json.loads(rating.value_json)
        meta[rating.cell_id] = (row_id, variant.label)
    raters = sorted({r for values in by_cell.values() for r in values})
    shared = {cid: vals for cid, vals in by_cell.items() if len(vals) >= 2}
    result: dict[str, Any] = {
        "scheme": scheme.name,
        "level": scheme.level,
        "raters": raters,
        "cells_rated": len(by_cell),
        "cells_shared": len(shared),
    }
    if scheme.level == "none" or not shared:
        return SchemeAgreement(**result)
    level = scheme.level
    items = [
        [_nominal(v) if level == "nominal" else float(v) for v in vals.values()]
        for vals in shared.values()
    ]
    nominal_items = [[_nominal(v) for v in vals.values()] for vals in shared.values()]
    if len(raters) == 2:
        a, b = raters
        both = [vals for vals in shared.values() if a in vals and b in vals]
        result["cohen_kappa"] = cohen_kappa(
            [_nominal(v[a]) for v in both], [_nominal(v[b]) for v in both]
        )
    result["fleiss_kappa"] = fleiss_kappa(nominal_items)
    result["krippendorff_alpha"] = krippendorff_alpha(items, level)
    span = (scheme.max - scheme.min) if scheme.max is not None and scheme.min is not None else None
    disputed = [
        DisputedCell(cid, meta[cid][0], meta[cid][1], dispute(item, level, span), shared[cid])
        for cid, item in zip(shared, items, strict=True)
    ]
    disputed = [d for d in disputed if d.dispute > 0]
    disputed.sort(key=lambda d: (-d.dispute, d.cell_id))
    result["disputed"] = disputed[:top]
    return SchemeAgreement(**result)


def run_agreement(ws: Workspace, run_id: int, top: int = 10) -> list[SchemeAgreement]:
    """Agreement per scheme of the workspace, for the schemes with ratings in this run."""
    reports = [scheme_agreement(ws, run_id, scheme, top) for scheme in load_schemes(ws)]
    return [r for r in reports if r.cells_rated]
