"""Migration m024: a run's rows and rendered prompts stored once, not per cell; fewer indexes.

`run_row` holds a run's rows (inputs, reference) once per row, `run_message` its rendered
messages once per template group and row, and `variant.template` names a variant's group;
a cell written after this stores '' in its own `inputs_json` / `messages_json` (and NULL in
`reference`) and is read through `storage.payloads`. Cells written before keep their copies.

Indexes that a longer index already serves (same leading columns) go: `ix_cell_run_id`
(`ix_cell_run_row`, `ix_cell_run_order` lead with run_id), `ix_cell_variant_id`
(`ux_cell_identity`, `ix_cell_stats`), `ix_score_run_id` (`ix_score_run_name`), and
`ix_cell_status` (no query filters on status without a run or variant, which lead the
others). The lease owner's index keeps only the cells claimed now (a partial index,
`WHERE lease_expires_at IS NOT NULL`, which SQLite and PostgreSQL both have): every
query by owner asks for a live lease, and a stored cell keeps its owner but not its expiry.
"""

from __future__ import annotations

from sqlalchemy import Connection, text


def m024_payloads(conn: Connection) -> None:
    # WITHOUT ROWID on SQLite: the primary key is the table, not a second copy of it.
    tail = " WITHOUT ROWID" if conn.dialect.name == "sqlite" else ""
    for statement in (
        f"""CREATE TABLE run_row (
            run_id INTEGER NOT NULL,
            row_index INTEGER NOT NULL,
            row_id TEXT NOT NULL,
            inputs_json TEXT NOT NULL,
            reference TEXT,
            PRIMARY KEY (run_id, row_index)
        ){tail}""",
        f"""CREATE TABLE run_message (
            run_id INTEGER NOT NULL,
            template INTEGER NOT NULL,
            row_index INTEGER NOT NULL,
            messages_json TEXT NOT NULL,
            PRIMARY KEY (run_id, template, row_index)
        ){tail}""",
        "ALTER TABLE variant ADD COLUMN template INTEGER",
        "DROP INDEX ix_cell_run_id",
        "DROP INDEX ix_cell_variant_id",
        "DROP INDEX ix_cell_status",
        "DROP INDEX ix_score_run_id",
        "DROP INDEX ix_cell_lease_owner",
        # Only cells claimed now: a stored cell keeps its owner's name but not its expiry.
        "CREATE INDEX ix_cell_lease_owner ON cell (lease_owner) WHERE lease_expires_at IS NOT NULL",
    ):
        conn.execute(text(statement))
