"""The tables as SQLAlchemy Core handles, for the queries that select columns rather than
rows (`CELL.c.status`). One handle per table, shared by every part that queries it."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from promptyard.storage.tables import Cell, Run, Score, Variant
from promptyard.storage.tables_payloads import RunMessage, RunRow
from promptyard.storage.tables_robustness import CellPerturbation, RobustnessRun

CELL = cast(Table, Cell.__table__)  # type: ignore[attr-defined]
RUN = cast(Table, Run.__table__)  # type: ignore[attr-defined]
VARIANT = cast(Table, Variant.__table__)  # type: ignore[attr-defined]
SCORE = cast(Table, Score.__table__)  # type: ignore[attr-defined]
PERTURBATION = cast(Table, CellPerturbation.__table__)  # type: ignore[attr-defined]
ROBUSTNESS_RUN = cast(Table, RobustnessRun.__table__)  # type: ignore[attr-defined]
ROW = cast(Table, RunRow.__table__)  # type: ignore[attr-defined]
MESSAGE = cast(Table, RunMessage.__table__)  # type: ignore[attr-defined]
