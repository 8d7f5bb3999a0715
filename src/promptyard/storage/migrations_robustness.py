"""Migration m023: robustness runs and the link from a perturbed cell to its original."""

from __future__ import annotations

from sqlalchemy import Connection, text


def m023_robustness(conn: Connection) -> None:
    # One row per robustness run (its perturbation settings and what was skipped), and one per
    # variant cell naming its original cell and perturbation kind. No foreign keys: deleting
    # a run must not trip over them, like the dashboard's summaries.
    conn.execute(
        text(
            """CREATE TABLE robustness_run (
                run_id INTEGER PRIMARY KEY,
                columns_json TEXT NOT NULL,
                kinds_json TEXT NOT NULL,
                seed INTEGER NOT NULL,
                typo_rate DOUBLE PRECISION NOT NULL,
                paraphrase_model TEXT,
                skipped_json TEXT NOT NULL
            )"""
        )
    )
    conn.execute(
        text(
            """CREATE TABLE cell_perturbation (
                cell_id INTEGER PRIMARY KEY,
                run_id INTEGER NOT NULL,
                original_cell_id INTEGER NOT NULL,
                original_row_id TEXT NOT NULL,
                kind TEXT NOT NULL
            )"""
        )
    )
    conn.execute(text("CREATE INDEX ix_cell_perturbation_run_id ON cell_perturbation (run_id)"))
    conn.execute(
        text(
            "CREATE INDEX ix_cell_perturbation_original_cell_id "
            "ON cell_perturbation (original_cell_id)"
        )
    )
