"""What the gate's reports need to know about each cell of its run beyond its grades:
how it ended at the provider, how long the call took, what it cost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select

from promptyard.storage import db
from promptyard.storage.tables import Cell, CellStatus, Run
from promptyard.workspace import Workspace


@dataclass(frozen=True)
class CellFacts:
    """One cell of the gate's run as the provider left it."""

    cell_id: int
    variant_id: int
    row_id: str
    repeat: int
    status: str  # a CellStatus: pending (never ran), ok, error
    latency_ms: float | None
    cost_usd: float | None
    error_kind: str | None
    error_message: str | None
    cached: bool

    @property
    def ran(self) -> bool:
        return self.status != CellStatus.PENDING

    @property
    def errored(self) -> bool:
        return self.status == CellStatus.ERROR


def run_facts(ws: Workspace, run_id: int) -> tuple[list[CellFacts], datetime | None]:
    """Every cell of the run, in plan order, and when the run started."""
    with db.session(ws) as s:
        run = s.get(Run, run_id)
        cells = s.exec(
            select(Cell)
            .where(Cell.run_id == run_id)
            .order_by(Cell.variant_id, Cell.row_index, Cell.repeat)  # type: ignore[arg-type]
        ).all()
        started = (run.started_at or run.created_at) if run is not None else None
    facts = [
        CellFacts(
            c.id or 0,
            c.variant_id,
            c.row_id,
            c.repeat,
            c.status,
            c.latency_ms,
            c.cost_usd,
            c.error_kind,
            c.error_message,
            c.cached,
        )
        for c in cells
    ]
    return facts, started


@dataclass(frozen=True)
class VariantInfo:
    """One variant of the gate's run: which prompt version on which model, and its side."""

    variant_id: int
    prompt: str
    version: int | None
    sha: str | None
    model: str
    side: str  # "current", "baseline" or "both" (the same text serves both sides)
    source: str  # "working tree (uncommitted)", "v2 1a2b3c4d (origin/main)", ...

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.variant_id,
            "prompt": self.prompt,
            "version": self.version,
            "sha": self.sha,
            "model": self.model,
            "side": self.side,
            "source": self.source,
        }
