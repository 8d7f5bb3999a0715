"""Agreement between human raters of a run, per rating scheme, and the disputed cells.

Undefined agreement (no cell with two raters, a single category used by everyone, fewer
than two shared cells) is None, with the reason in `SchemeAgreement.reasons`, so a page
shows "—" and says why.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, select

from promptyard.ratings.schemes import RatingScheme, load_schemes
from promptyard.stats import (
    Estimate,
    cohen_kappa_estimate,
    dispute,
    fleiss_kappa_estimate,
    krippendorff_alpha_estimate,
)
from promptyard.storage import db
from promptyard.storage.tables import Cell, Rating, Variant
from promptyard.workspace import Workspace

NO_AGREEMENT_FOR_TEXT = "free-text ratings have no agreement"
NO_SHARED_CELLS = "no cell has two or more raters yet, so agreement is undefined"
NOT_TWO_RATERS = "Cohen's kappa is for exactly two raters"


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

    `cohen_kappa` is for exactly two raters over the cells both rated; `fleiss_kappa`
    for any number of raters (nominal); `krippendorff_alpha` where two or more ratings
    meet, at the scheme's `level` (ordinal for numeric schemes unless ratings.yaml says
    otherwise, nominal for the others). A statistic that is None is undefined and
    `reasons` holds why, keyed by the field's name.
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
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def method(self) -> str:
        """The headline statistic: Cohen's kappa for two raters, Fleiss' for more."""
        if self.cells_shared and len(self.raters) == 2:
            return "Cohen's kappa"
        if self.cells_shared and len(self.raters) > 2:
            return "Fleiss' kappa"
        return "Krippendorff's alpha"

    @property
    def value(self) -> float | None:
        """The value of `method` (None where undefined: see `reason`)."""
        return getattr(self, _FIELD_OF[self.method])

    @property
    def reason(self) -> str | None:
        """Why the headline statistic is undefined; None when it has a value."""
        return self.reasons.get(_FIELD_OF[self.method])

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (what `promptyard ratings agreement --json` prints)."""
        return {
            "scheme": self.scheme,
            "level": self.level,
            "raters": self.raters,
            "cells_rated": self.cells_rated,
            "cells_shared": self.cells_shared,
            "method": self.method,
            "cohen_kappa": self.cohen_kappa,
            "fleiss_kappa": self.fleiss_kappa,
            "krippendorff_alpha": self.krippendorff_alpha,
            "reasons": dict(self.reasons),
            "disputed": [d.__dict__ for d in self.disputed],
        }


_FIELD_OF = {
    "Cohen's kappa": "cohen_kappa",
    "Fleiss' kappa": "fleiss_kappa",
    "Krippendorff's alpha": "krippendorff_alpha",
}
_STATISTICS = tuple(_FIELD_OF.values())


def _nominal(value: Any) -> Any:
    # A set of labels is one nominal value: raters agree when they picked the same set.
    return json.dumps(value, sort_keys=True) if isinstance(value, list | dict) else value


def _fill(result: dict[str, Any], name: str, estimate: Estimate) -> None:
    result[name] = estimate.value
    if estimate.reason:
        result["reasons"][name] = estimate.reason


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
    level = scheme.level
    result: dict[str, Any] = {
        "scheme": scheme.name,
        "level": level,
        "raters": raters,
        "cells_rated": len(by_cell),
        "cells_shared": len(shared),
        "reasons": {},
    }
    if level == "none" or not shared:
        why = NO_AGREEMENT_FOR_TEXT if level == "none" else NO_SHARED_CELLS
        result["reasons"] = dict.fromkeys(_STATISTICS, why)
        return SchemeAgreement(**result)
    items = [
        [_nominal(v) if level == "nominal" else float(v) for v in vals.values()]
        for vals in shared.values()
    ]
    nominal_items = [[_nominal(v) for v in vals.values()] for vals in shared.values()]
    if len(raters) == 2:
        a, b = raters
        both = [vals for vals in shared.values() if a in vals and b in vals]
        _fill(
            result,
            "cohen_kappa",
            cohen_kappa_estimate([_nominal(v[a]) for v in both], [_nominal(v[b]) for v in both]),
        )
    else:
        result["reasons"]["cohen_kappa"] = NOT_TWO_RATERS
    _fill(result, "fleiss_kappa", fleiss_kappa_estimate(nominal_items))
    _fill(result, "krippendorff_alpha", krippendorff_alpha_estimate(items, level))
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
