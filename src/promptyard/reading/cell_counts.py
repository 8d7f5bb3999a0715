"""Counts, spend and median latency of variants, read along the cell indexes.

A run of a million cells is summed in a fraction of a second: the counts and costs come
from the covering index `ix_cell_stats (variant_id, status, ..., cost_usd)`, the cached
cells (a few) from `ix_cell_latency (status, cached, variant_id, latency_ms)`, and the
median by a count and one `ORDER BY latency_ms LIMIT 1 OFFSET rank - 1` along that same
index, never by reading the cells themselves. The runs list and the Compare header both
use these; the figures are the same as those counted from the cells one by one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, text

from promptyard.stats import nearest_rank
from promptyard.storage.tables import CellStatus

_STATUSES = [str(s) for s in CellStatus]

# Every cell of the variants, per status: counts and the costs recorded (cached or not).
_BY_STATUS = text(
    "SELECT variant_id, status, COUNT(*), SUM(cost_usd), COUNT(cost_usd) FROM cell"
    " WHERE variant_id IN :variants GROUP BY variant_id, status"
).bindparams(bindparam("variants", expanding=True))
# The cached ones (status and cached given as equalities, so the index is walked).
_CACHED = text(
    "SELECT variant_id, status, COUNT(*), SUM(cost_usd), COUNT(cost_usd) FROM cell"
    " WHERE status IN :statuses AND cached = :yes AND variant_id IN :variants"
    " GROUP BY variant_id, status"
).bindparams(bindparam("variants", expanding=True), bindparam("statuses", expanding=True))
# A variant with cached cells: the spend of its calls summed exactly (no subtraction).
_MADE = text(
    "SELECT variant_id, SUM(cost_usd) FROM cell WHERE variant_id IN :variants AND cached = :no"
    " GROUP BY variant_id"
).bindparams(bindparam("variants", expanding=True))
_LIVE = (
    " FROM cell WHERE status = :ok AND cached = :no AND variant_id = :v AND latency_ms IS NOT NULL"
)
_LIVE_COUNT = text("SELECT COUNT(*)" + _LIVE)
_LIVE_AT = text("SELECT latency_ms" + _LIVE + " ORDER BY latency_ms LIMIT 1 OFFSET :at")


@dataclass(slots=True)
class VariantCounts:
    """One variant's cells: how many, how they ended, and what this run spent on them."""

    cells: int = 0
    ok: int = 0
    errors: int = 0
    cached: int = 0  # served from the cache: this run paid nothing for them
    cost_usd: float = 0.0  # the sum of the known costs of the calls made (cached: 0)
    cost_known: int = 0  # cells whose cost to this run is known (cached ones are: $0)
    unknown_cost: int = 0  # calls made and finished whose price is unknown

    def add(self, other: VariantCounts) -> None:
        """Add another variant's counts to these (a run's total over its variants)."""
        self.cells += other.cells
        self.ok += other.ok
        self.errors += other.errors
        self.cached += other.cached
        self.cost_usd += other.cost_usd
        self.cost_known += other.cost_known
        self.unknown_cost += other.unknown_cost


def variant_counts(conn: Any, variant_ids: Iterable[int]) -> dict[int, VariantCounts]:
    """Per variant id (a Session or Connection `conn`): its VariantCounts; every id given
    is in the answer, with zeros when it has no cells."""
    ids = sorted({int(v) for v in variant_ids})
    out = {v: VariantCounts() for v in ids}
    if not ids:
        return out
    for vid, status, n, cost, with_cost in conn.execute(_BY_STATUS, {"variants": ids}):
        c = out[int(vid)]
        c.cells += int(n)
        c.ok += int(n) if status == CellStatus.OK else 0
        c.errors += int(n) if status == CellStatus.ERROR else 0
        c.cost_usd += float(cost or 0.0)
        c.cost_known += int(with_cost)
        if status != CellStatus.PENDING:
            c.unknown_cost += int(n) - int(with_cost)
    params = {"variants": ids, "statuses": _STATUSES, "yes": True}
    with_cached: set[int] = set()
    for vid, status, n, cost, with_cost in conn.execute(_CACHED, params):
        c = out[int(vid)]
        # A cached cell cost this run nothing, whatever the original call cost.
        c.cached += int(n)
        c.cost_known += int(n) - int(with_cost)
        if status != CellStatus.PENDING:
            c.unknown_cost -= int(n) - int(with_cost)
        if cost:
            with_cached.add(int(vid))
    if with_cached:
        for vid in with_cached:
            out[vid].cost_usd = 0.0
        for vid, cost in conn.execute(_MADE, {"variants": sorted(with_cached), "no": False}):
            out[int(vid)].cost_usd = float(cost or 0.0)
    return out


def live_p50_ms(conn: Any, variant_id: int) -> float | None:
    """The nearest-rank median latency of the variant's answered, uncached calls; None
    when it made none."""
    params: dict[str, Any] = {"ok": str(CellStatus.OK), "no": False, "v": int(variant_id)}
    n = int(conn.execute(_LIVE_COUNT, params).scalar_one())
    if not n:
        return None
    value = conn.execute(_LIVE_AT, {**params, "at": nearest_rank(50, n) - 1}).scalar_one()
    return float(value)
