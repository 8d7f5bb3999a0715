"""Importing a file or pasted text as a version: size limit, column choice, row ids."""

from __future__ import annotations

from collections.abc import Sequence

from promptyard.datasets.ids import assign_ids, ids_from_column
from promptyard.datasets.io import parse_table
from promptyard.datasets.records import DatasetVersion
from promptyard.datasets.saving import _current, _save_rows, set_reference
from promptyard.datasets.table import ID, PASTED, DatasetError, Format, ParsedTable, Row, columns_of
from promptyard.workspace import Workspace, validate_name

_MB = 1024 * 1024


def _check_size(ws: Workspace, data: bytes | str, source: str) -> None:
    limit = ws.settings.max_upload_mb
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8"))
    if size > limit * _MB:
        raise DatasetError(
            f"the file is {size / _MB:.1f} MB; the limit is {limit} MB "
            "(setting PROMPTYARD_MAX_UPLOAD_MB)",
            source=source,
        )


def preview_import(
    ws: Workspace, data: bytes | str, filename: str | None = None, *, format: Format | None = None
) -> ParsedTable:
    """Parse an upload without writing anything: its rows and columns, or a DatasetError."""
    _check_size(ws, data, filename or PASTED)
    return parse_table(data, filename, format=format)


def _pick_columns(
    table: ParsedTable, columns: Sequence[str] | None, id_column: str | None
) -> list[Row]:
    if columns is None:
        return table.rows
    unknown = [c for c in columns if c not in table.columns]
    if unknown:
        raise DatasetError(
            f"no column {', '.join(map(repr, unknown))}; the columns are "
            f"{', '.join(table.columns)}",
            source=table.source,
        )
    keep = [c for c in table.columns if c in set(columns) or c in (id_column, ID)]
    if keep == table.columns:
        return table.rows
    return [{c: row[c] for c in keep if c in row} for row in table.rows]


def _build_rows(
    ws: Workspace,
    name: str,
    table: ParsedTable,
    columns: Sequence[str] | None,
    id_column: str | None,
    previous: list[Row] | None,
) -> list[Row]:
    if id_column is not None and id_column not in table.columns:
        raise DatasetError(
            f"the id column {id_column!r} is not in the file; the columns are "
            f"{', '.join(table.columns)}",
            source=table.source,
        )
    if id_column is not None and id_column != ID and ID in table.columns:
        raise DatasetError(
            f"the file has both an 'id' column and the id column {id_column!r}; pick one",
            source=table.source,
        )
    rows = _pick_columns(table, columns, id_column)
    chosen = id_column or (ID if ID in table.columns else None)
    if chosen is not None:
        return ids_from_column(rows, chosen, table, table.source)
    return assign_ids(rows, previous)


def import_dataset(
    ws: Workspace,
    name: str,
    data: bytes | str,
    filename: str | None = None,
    *,
    columns: Sequence[str] | None = None,
    id_column: str | None = None,
    reference: str | None = None,
    message: str | None = None,
    author: str | None = None,
    format: Format | None = None,
) -> DatasetVersion:
    """Import `data` (file bytes, or pasted text as str) as a new version of dataset `name`.

    `columns` keeps only those columns; `id_column` names the column holding row ids
    (default: `id` if present, else ids are derived and kept for unchanged rows on
    re-import); `reference` marks the expected-output column. Bad input raises a
    DatasetError naming file, line and column, and writes nothing. Importing the same
    rows again returns the current version without a new commit.
    """
    validate_name(name, "dataset")
    source = filename or PASTED
    _check_size(ws, data, source)
    table = parse_table(data, filename, format=format)
    current = _current(ws, name)
    rows = _build_rows(ws, name, table, columns, id_column, current[1] if current else None)
    if reference is not None and reference not in columns_of(rows):
        raise DatasetError(
            f"the reference column {reference!r} is not in the data", source=source, field=reference
        )
    text = "Import " + (filename or "pasted rows") + f" ({len(rows)} rows)"
    version = _save_rows(ws, name, rows, message or text, author=author, current=current)
    if reference is not None:
        set_reference(ws, name, reference, author=author)
    return version
