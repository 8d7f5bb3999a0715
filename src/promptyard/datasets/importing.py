"""Importing a file or pasted text as a version: size limit, then rows streamed to git."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from promptyard.datasets.ids import Change
from promptyard.datasets.import_stream import write_rows
from promptyard.datasets.io import parse_table
from promptyard.datasets.loading import _store
from promptyard.datasets.previous_rows import previous_rows
from promptyard.datasets.records import DatasetVersion, as_version, dataset_path
from promptyard.datasets.row_stream import open_rows, source_size
from promptyard.datasets.saving import _set_reference
from promptyard.datasets.table import PASTED, DatasetError, Format, ParsedTable
from promptyard.disk_errors import disk_error
from promptyard.versioning import save_file
from promptyard.workspace import Workspace, validate_name

_MB = 1024 * 1024


def _check_size(ws: Workspace, size: int, source: str) -> None:
    limit = ws.settings.max_upload_mb
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
    _check_size(ws, source_size(data), filename or PASTED)
    return parse_table(data, filename, format=format)


def import_dataset(
    ws: Workspace,
    name: str,
    data: bytes | str | Path,
    filename: str | None = None,
    *,
    columns: Sequence[str] | None = None,
    id_column: str | None = None,
    reference: str | None = None,
    message: str | None = None,
    author: str | None = None,
    format: Format | None = None,
) -> DatasetVersion:
    """Import `data` (a file's path or bytes, or pasted text as str) as a new version of `name`.

    `columns` keeps only those columns; `id_column` names the column holding row ids
    (default: `id` if present, else ids are derived and kept for unchanged rows on
    re-import); `reference` marks the expected-output column. Bad input raises a
    DatasetError naming file, line and column, and writes nothing. Importing the same
    rows again returns the current version without a new commit. A path is read as it
    is imported, never whole: memory grows with the number of rows, not the file size.
    """
    validate_name(name, "dataset")
    if isinstance(data, Path) and filename is None:
        filename = data.name
    source = filename or PASTED
    _check_size(ws, source_size(data), source)
    path = dataset_path(name)
    store = _store(ws)
    target = store.abs_path(path)
    folder = target.parent
    made_folder = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / f".{target.name}.import-{os.getpid()}"
    try:
        with (
            open_rows(data, filename, format=format) as stream,
            previous_rows(target, path) as previous,
        ):
            written = write_rows(
                stream, staged, columns=columns, id_column=id_column, previous=previous
            )
        if reference is not None and reference not in written.columns:
            raise DatasetError(
                f"the reference column {reference!r} is not in the data",
                source=source,
                field=reference,
            )
        text = "Import " + (filename or "pasted rows") + f" ({written.rows} rows)"
        saved, new = save_file(store, path, staged, message or text, author=author)
    except BaseException as exc:
        staged.unlink(missing_ok=True)
        if made_folder and not any(folder.iterdir()):
            folder.rmdir()
        if isinstance(exc, OSError):  # the disk filled up or went read-only under us
            raise disk_error(exc, f"importing {path}") from None
        raise
    change = written.change if new else Change()
    version = as_version(name, saved, rows=written.rows, change=change)
    if reference is not None:
        _set_reference(ws, name, reference, list(written.columns), author=author)
    return version
