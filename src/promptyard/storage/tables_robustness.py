"""SQLModel tables of robustness runs (m023): which cells are perturbed copies, of what.

Kept apart from tables.py (which re-exports them in ALL_TABLES) so each module stays short.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class RobustnessRun(SQLModel, table=True):
    """The settings of a robustness run: perturbed columns, kinds, seed and skipped rows.

    skipped_json maps a perturbation kind to the number of rows it could not apply to
    (no words to reorder, no letters to change case); those rows have no variant cell.
    """

    __tablename__ = "robustness_run"

    run_id: int = Field(primary_key=True)
    columns_json: str = "[]"
    kinds_json: str = "[]"
    seed: int = 0
    typo_rate: float = 0.05
    paraphrase_model: str | None = None
    skipped_json: str = "{}"


class CellPerturbation(SQLModel, table=True):
    """A variant cell of a robustness run, linked to the cell of its original row.

    Both cells share the run, the variant (prompt version x model) and the repeat index;
    the variant's row id is the original's id plus `~kind`.
    """

    __tablename__ = "cell_perturbation"

    cell_id: int = Field(primary_key=True)  # the variant cell
    run_id: int = Field(index=True)
    original_cell_id: int = Field(index=True)
    original_row_id: str
    kind: str  # a promptyard.robustness.PerturbationKind
