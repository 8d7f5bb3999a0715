"""SQLModel table of the Compare header's pass rates (m026), kept apart from tables.py
(which re-exports it in ALL_TABLES) so each module stays short."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class VariantVerdicts(SQLModel, table=True):
    """Per variant of a run: the cells a suite scored and those that passed every suite
    that scored them. Valid while the run's `signature` (the count and highest id of its
    suite verdicts) is unchanged; the row with variant_id 0 holds it for the run."""

    __tablename__ = "variant_verdicts"

    run_id: int = Field(primary_key=True)
    variant_id: int = Field(primary_key=True)
    signature: str
    scored: int = 0
    passed: int = 0
