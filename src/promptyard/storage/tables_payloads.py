"""SQLModel tables of a run's payloads (m024): what a run's cells share, stored once.

A run's rows (inputs and reference) are stored once per run and row, its rendered prompts
once per run, template group and row (`Variant.template` names a variant's group), so a
cell carries neither: it finds them by the keys it has (run id, variant, row index).
Cells stored before m024 keep their own copies; `storage.payloads` reads either kind.
Kept apart from tables.py (which re-exports them in ALL_TABLES) so each module stays short.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class RunRow(SQLModel, table=True):
    """One dataset row of a run: its id, its inputs (JSON) and its reference."""

    __tablename__ = "run_row"

    run_id: int = Field(primary_key=True)
    row_index: int = Field(primary_key=True)
    row_id: str
    inputs_json: str = "{}"
    reference: str | None = None


class RunMessage(SQLModel, table=True):
    """The rendered messages (JSON) of one template group of a run on one row."""

    __tablename__ = "run_message"

    run_id: int = Field(primary_key=True)
    template: int = Field(primary_key=True)  # Variant.template of the variants it serves
    row_index: int = Field(primary_key=True)
    messages_json: str = "[]"
