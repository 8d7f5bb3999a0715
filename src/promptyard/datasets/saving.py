"""Writing rows as a new version: save, save an edited page, mark the reference column."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from promptyard.datasets.edit import apply_edits, clean_rows, json_columns
from promptyard.datasets.ids import Change, assign_ids, changes_between, check_ids
from promptyard.datasets.json_table import dumps_jsonl
from promptyard.datasets.loading import (
    _latest,
    _meta_path,
    _read_meta,
    _rows_of_text,
    _store,
    load_dataset,
)
from promptyard.datasets.records import DatasetVersion, as_version, dataset_path
from promptyard.datasets.table import ID, DatasetError, Row
from promptyard.workspace import Workspace, validate_name


def _current(ws: Workspace, name: str) -> tuple[str, list[Row] | None] | None:
    """The dataset file's text and its rows (None when unreadable); None for a new dataset."""
    path = dataset_path(name)
    file = ws.file(path)
    if not file.is_file():
        return None
    text = file.read_text(encoding="utf-8")
    try:
        return text, _rows_of_text(text, path)
    except DatasetError:
        return text, None


def _save_rows(
    ws: Workspace,
    name: str,
    rows: list[Row],
    message: str,
    *,
    base: str | None = None,
    author: str | None = None,
    current: tuple[str, list[Row] | None] | None | bool = True,
) -> DatasetVersion:
    """Commit `rows`; `current` is what `_current` returned, if the caller has it."""
    path = dataset_path(name)
    content = dumps_jsonl(rows)
    if current is True:
        current = _current(ws, name)
    previous: list[Row] | None = None
    if isinstance(current, tuple):
        text, previous = current
        latest = _latest(ws, name)
        if text == content and latest is not None and (base is None or base == latest.sha):
            return as_version(name, latest, rows=len(rows), change=Change())
    saved = _store(ws).save(path, content, message, base=base, author=author)
    change = changes_between(previous, rows) if previous is not None else None
    return as_version(name, saved, rows=len(rows), change=change)


def save_dataset(
    ws: Workspace,
    name: str,
    rows: Iterable[Mapping[str, Any]],
    message: str,
    *,
    base: str | None = None,
    author: str | None = None,
) -> DatasetVersion:
    """Save `rows` as a new version; rows without an id get one; duplicate ids fail.

    `base` is the sha the edit started from: a ConflictError is raised when the dataset
    changed since.
    """
    validate_name(name, "dataset")
    if not message.strip():
        raise DatasetError("a version needs a message")
    cleaned = clean_rows(rows)
    with_ids = [row for row in cleaned if ID in row]
    check_ids(with_ids, dataset_path(name))
    taken = {row[ID] for row in with_ids}
    fresh = assign_ids([row for row in cleaned if ID not in row], taken=taken)
    fresh_iter = iter(fresh)
    final = [row if ID in row else next(fresh_iter) for row in cleaned]
    return _save_rows(ws, name, final, message, base=base, author=author)


def save_edits(
    ws: Workspace,
    name: str,
    shown_ids: Sequence[str],
    edited: Iterable[Mapping[str, Any]],
    message: str,
    *,
    base: str | None = None,
    author: str | None = None,
) -> DatasetVersion:
    """Apply an edit of one page of rows to the version `base` and save a new version."""
    current = load_dataset(ws, name, base)
    rows = apply_edits(current.rows, shown_ids, edited, json_columns(current.rows))
    return save_dataset(ws, name, rows, message, base=base, author=author)


def set_reference(
    ws: Workspace, name: str, column: str | None, author: str | None = None
) -> str | None:
    """Mark `column` as the reference (expected output) of dataset `name`; None clears it.

    Kept in `datasets/NAME.meta.json`, versioned like the data.
    """
    return _set_reference(ws, name, column, load_dataset(ws, name).columns, author=author)


def _set_reference(
    ws: Workspace, name: str, column: str | None, columns: Sequence[str], author: str | None
) -> str | None:
    """`set_reference` for a caller that knows the dataset's columns (an import)."""
    if column is not None and column not in columns:
        raise DatasetError(
            f"no column {column!r} in dataset {name!r}; the columns are {', '.join(columns)}",
            field=column,
        )
    current = _read_meta(ws, name)
    if "reference" in current and current["reference"] == column:
        return column
    meta = {**current, "reference": column}
    content = json.dumps(meta, indent=2, ensure_ascii=False) + "\n"
    what = (
        f"Mark {column!r} as the reference of {name}"
        if column
        else f"Clear the reference of {name}"
    )
    _store(ws).save(_meta_path(name), content, what, author=author)
    return column
