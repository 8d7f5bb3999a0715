"""Datasets: `datasets/NAME.jsonl` in the workspace, versioned through the git store.

Import (CSV, JSONL, a JSON array, pasted text), validate, give every row a stable `id`,
load any version, summarize what changed between versions, check the fit to a prompt,
and pick slices of rows for runs. This module is the API callers use; parsing lives in
`datasets_io`, row ids and change summaries in `datasets_ids`, table-editor round trips
in `datasets_edit`, slices and the filter language in `datasets_slice`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from promptyard.datasets.edit import apply_edits, clean_rows, for_editor, json_columns
from promptyard.datasets.ids import (
    Change,
    assign_ids,
    changes_between,
    check_ids,
    ids_from_column,
)
from promptyard.datasets.io import (
    ID,
    PASTED,
    DatasetError,
    Format,
    ParsedTable,
    Row,
    columns_of,
    dumps_jsonl,
    loads_jsonl,
    parse_table,
)
from promptyard.datasets.slicing import SliceSpec, compile_filter, select_from
from promptyard.errors import NotFoundError
from promptyard.workspace import Workspace, validate_name

__all__ = [
    "Change",
    "Dataset",
    "DatasetError",
    "DatasetInfo",
    "DatasetVersion",
    "Fit",
    "ParsedTable",
    "RowsPage",
    "SliceSpec",
    "apply_edits",
    "changes_between",
    "check_fit",
    "compare_versions",
    "compile_filter",
    "dataset_history",
    "dataset_path",
    "delete_dataset",
    "for_editor",
    "import_dataset",
    "json_columns",
    "list_datasets",
    "load_dataset",
    "parse_table",
    "preview_import",
    "read_page",
    "restore_dataset",
    "save_dataset",
    "save_edits",
    "select_rows",
    "set_dataset_label",
    "set_reference",
]

REFERENCE_GUESSES = ("expected", "expected_output", "reference", "answer", "label", "target")
_MB = 1024 * 1024


# --- records ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetVersion:
    """One version of a dataset: the store version of its jsonl file."""

    name: str
    number: int
    sha: str
    short_sha: str
    message: str
    author: str
    date: datetime | None
    labels: tuple[str, ...] = ()
    rows: int | None = None
    change: Change | None = None  # against the version before; None for the first
    deleted: bool = False

    @property
    def ref(self) -> str:
        return f"v{self.number}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.ref,
            "sha": self.sha,
            "short_sha": self.short_sha,
            "message": self.message,
            "author": self.author,
            "date": self.date.isoformat() if self.date else None,
            "labels": list(self.labels),
            "rows": self.rows,
            "deleted": self.deleted,
            "change": self.change.to_dict() if self.change else None,
        }


@dataclass
class Dataset:
    """The rows of one version of a dataset; every row has a unique string `id`."""

    name: str
    rows: list[Row]
    columns: list[str]
    version: DatasetVersion | None = None
    reference: str | None = None

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def path(self) -> str:
        return dataset_path(self.name)

    @property
    def ids(self) -> list[str]:
        return [row[ID] for row in self.rows]

    @property
    def input_columns(self) -> list[str]:
        """Columns other than `id` and the reference column."""
        return [c for c in self.columns if c not in (ID, self.reference)]

    def page(self, number: int, size: int = 100) -> list[Row]:
        """Rows of page `number` (1-based) of `size` rows."""
        start = max(number - 1, 0) * size
        return self.rows[start : start + size]

    def page_count(self, size: int = 100) -> int:
        return max(1, math.ceil(len(self.rows) / size))


@dataclass(frozen=True)
class DatasetInfo:
    """A dataset in the list: name, row count, columns, latest version."""

    name: str
    rows: int
    columns: list[str]
    version: DatasetVersion | None
    reference: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rows": self.rows,
            "columns": self.columns,
            "reference": self.reference,
            "version": self.version.ref if self.version else None,
            "sha": self.version.short_sha if self.version else None,
            "labels": list(self.version.labels) if self.version else [],
        }


@dataclass(frozen=True)
class Fit:
    """How a dataset fits a prompt's variables."""

    provided: list[str]  # variables a column supplies
    missing: list[str]  # variables no column supplies
    extra: list[str]  # columns no variable uses (besides id and the reference)
    reference: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)  # variable -> column

    @property
    def ok(self) -> bool:
        return not self.missing

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "provided": self.provided,
            "missing": self.missing,
            "extra": self.extra,
            "reference": self.reference,
            "mapping": self.mapping,
        }


class _HasVariables(Protocol):
    @property
    def variables(self) -> Sequence[str]: ...


# --- paths and the store ----------------------------------------------------------------


def dataset_path(name: str) -> str:
    """The workspace-relative path of dataset `name`: `datasets/NAME.jsonl`."""
    return f"datasets/{name}.jsonl"


def _meta_path(name: str) -> str:
    return f"datasets/{name}.meta.json"


def _store(ws: Workspace) -> Any:
    from promptyard.versioning.store import Store

    return Store(ws)


def _as_version(
    name: str, v: Any, rows: int | None = None, change: Change | None = None
) -> DatasetVersion:
    labels = getattr(v, "labels", ()) or ()
    return DatasetVersion(
        name=name,
        number=v.number,
        sha=v.sha,
        short_sha=v.short_sha,
        message=v.message,
        author=str(v.author or ""),
        date=v.date,
        labels=tuple(labels),
        rows=rows,
        change=change,
        deleted=bool(getattr(v, "deleted", False)),
    )


def _latest(ws: Workspace, name: str) -> Any | None:
    history = _store(ws).history(dataset_path(name))
    return history[-1] if history else None


def _names(ws: Workspace) -> list[str]:
    if not ws.datasets_dir.is_dir():
        return []
    return sorted(p.name[: -len(".jsonl")] for p in ws.datasets_dir.glob("*.jsonl") if p.is_file())


def _require(ws: Workspace, name: str) -> None:
    validate_name(name, "dataset")
    if not (ws.root / dataset_path(name)).is_file():
        known = _names(ws)
        hint = f"; datasets: {', '.join(known)}" if known else "; there are no datasets yet"
        raise NotFoundError(f"dataset {name!r} not found{hint}")


# --- reading ----------------------------------------------------------------------------


def _read_meta(ws: Workspace, name: str) -> dict[str, Any]:
    path = ws.root / _meta_path(name)
    if not path.is_file():
        return {}
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _reference_for(meta: Mapping[str, Any], columns: Sequence[str]) -> str | None:
    if "reference" in meta:
        chosen = meta.get("reference")
        return chosen if isinstance(chosen, str) and chosen in columns else None
    return next((c for c in REFERENCE_GUESSES if c in columns), None)


def _rows_of_text(text: str, source: str) -> list[Row]:
    rows = loads_jsonl(text, source)
    if rows and all(ID in row for row in rows):
        check_ids(rows, source)
        if all(type(row[ID]) is str for row in rows):
            return rows
        return [{**row, ID: str(row[ID])} for row in rows]
    # A file written by hand without (some) ids: give those rows ids in memory.
    with_ids = [row for row in rows if ID in row]
    check_ids(with_ids, source)
    fresh = iter(
        assign_ids([row for row in rows if ID not in row], taken={str(row[ID]) for row in with_ids})
    )
    return [{**row, ID: str(row[ID])} if ID in row else next(fresh) for row in rows]


def _text_at(ws: Workspace, name: str, ref: str | None) -> tuple[str, Any | None]:
    """The file's text at `ref` and its store Version (None: edited since, or never saved)."""
    path = dataset_path(name)
    if ref is not None:  # a saved version can be read even after the file was deleted
        validate_name(name, "dataset")
        store = _store(ws)
        if not store.history(path):
            _require(ws, name)
        version = store.resolve(path, ref)
        return store.read_version(version), version
    _require(ws, name)
    store = _store(ws)
    text = (ws.root / path).read_text(encoding="utf-8")
    latest = _latest(ws, name)
    if latest is not None and store.repo.git.status("--porcelain", "--", store.repo_path(path)):
        latest = None  # edited on disk since the last version
    return text, latest


def load_dataset(ws: Workspace, name: str, ref: str | None = None) -> Dataset:
    """Dataset `name` at version `ref` (`v3`, a sha prefix, a label; None = the current file).

    With ref None, `version` is the latest saved version, or None when the file has
    changes that are not saved as a version (so no run claims a version it did not use).
    """
    text, latest = _text_at(ws, name, ref)
    rows = _rows_of_text(text, dataset_path(name))
    columns = columns_of(rows)
    version = _as_version(name, latest, rows=len(rows)) if latest is not None else None
    return Dataset(name, rows, columns, version, _reference_for(_read_meta(ws, name), columns))


@dataclass(frozen=True)
class RowsPage:
    """One page of a dataset's rows, read without parsing the other rows."""

    name: str
    rows: list[Row]
    start: int  # index of the first row shown
    total: int  # rows in the whole dataset
    columns: list[str]  # the columns of the rows shown
    version: DatasetVersion | None
    reference: str | None


def read_page(
    ws: Workspace, name: str, start: int = 0, size: int = 100, ref: str | None = None
) -> RowsPage:
    """Rows `start` to `start + size` of dataset `name`, parsing only those lines.

    Showing the first page of a 100,000-row dataset takes a fraction of a full load.
    """
    text, latest = _text_at(ws, name, ref)
    lines = [line for line in text.splitlines() if line.strip()]
    start = max(0, start)
    chosen = lines[start : start + size]
    try:
        rows = [json.loads(line) for line in chosen]
    except ValueError:
        rows = []
    if len(rows) != len(chosen) or not all(type(r) is dict and r.get(ID) for r in rows):
        # A broken line, or rows without ids: the full load gives the exact error or ids.
        full = load_dataset(ws, name, ref)
        rows = full.rows[start : start + size]
    else:
        rows = [r if type(r[ID]) is str else {**r, ID: str(r[ID])} for r in rows]
    version = _as_version(name, latest, rows=len(lines)) if latest is not None else None
    try:
        first = json.loads(lines[0]) if lines else {}
    except ValueError:
        first = {}
    columns = columns_of([first, *rows] if isinstance(first, dict) else rows)
    reference = _reference_for(_read_meta(ws, name), columns)
    return RowsPage(name, rows, start, len(lines), columns, version, reference)


def list_datasets(ws: Workspace) -> list[DatasetInfo]:
    """Every dataset in the workspace, by name, with its row count and latest version."""
    infos = []
    for name in _names(ws):
        data = (ws.root / dataset_path(name)).read_bytes()
        count = _count_rows(data)
        first_line = data[: data.find(b"\n")] if b"\n" in data else data
        try:
            first = json.loads(first_line) if first_line.strip() else {}
        except ValueError:
            first = {}
        columns = list(first) if isinstance(first, dict) else []
        latest = _latest(ws, name)
        version = _as_version(name, latest, rows=count) if latest is not None else None
        infos.append(
            DatasetInfo(
                name, count, columns, version, _reference_for(_read_meta(ws, name), columns)
            )
        )
    return infos


def _count_rows(data: bytes) -> int:
    """Non-blank lines of a JSONL file, without parsing it."""
    count = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    if data.startswith(b"\n") or b"\n\n" in data or b"\r" in data:
        return sum(1 for line in data.splitlines() if line.strip())
    return count


def dataset_history(ws: Workspace, name: str, *, changes: bool = True) -> list[DatasetVersion]:
    """Every version, oldest first; with `changes`, each with its row count and change."""
    validate_name(name, "dataset")
    path = dataset_path(name)
    store = _store(ws)
    history = store.history(path)
    if not history:
        _require(ws, name)
    result: list[DatasetVersion] = []
    previous: list[Row] | None = None
    for v in history:
        if not changes:
            result.append(_as_version(name, v))
            continue
        rows = [] if getattr(v, "deleted", False) else _rows_of_text(store.read_version(v), path)
        change = changes_between(previous, rows) if previous is not None else None
        result.append(_as_version(name, v, rows=len(rows), change=change))
        previous = rows
    return result


def compare_versions(ws: Workspace, name: str, ref_a: str, ref_b: str) -> Change:
    """What changed from version `ref_a` to version `ref_b` of dataset `name`."""
    old = load_dataset(ws, name, ref_a)
    new = load_dataset(ws, name, ref_b)
    return changes_between(old.rows, new.rows)


# --- writing ----------------------------------------------------------------------------


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


def _current(ws: Workspace, name: str) -> tuple[str, list[Row] | None] | None:
    """The dataset file's text and its rows (None when unreadable); None for a new dataset."""
    path = dataset_path(name)
    file = ws.root / path
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
            return _as_version(name, latest, rows=len(rows), change=Change())
    saved = _store(ws).save(path, content, message, base=base, author=author)
    change = changes_between(previous, rows) if previous is not None else None
    return _as_version(name, saved, rows=len(rows), change=change)


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


def restore_dataset(
    ws: Workspace, name: str, ref: str, message: str | None = None, author: str | None = None
) -> DatasetVersion:
    """Make version `ref` the current content again, as a new version."""
    validate_name(name, "dataset")
    path = dataset_path(name)
    store = _store(ws)
    if not store.history(path):
        _require(ws, name)
    target = store.resolve(path, ref)
    before = load_dataset(ws, name).rows if (ws.root / path).is_file() else []
    _rows_of_text(store.read_version(target), path)  # refuse to restore a broken version
    saved = store.restore(path, ref, message=message, author=author)
    after = load_dataset(ws, name).rows
    return _as_version(name, saved, rows=len(after), change=changes_between(before, after))


def delete_dataset(ws: Workspace, name: str, message: str | None = None) -> DatasetVersion:
    """Delete dataset `name` (its history stays in git)."""
    _require(ws, name)
    saved = _store(ws).delete(dataset_path(name), message or f"Delete dataset {name}")
    return _as_version(name, saved, rows=0)


def set_dataset_label(
    ws: Workspace, name: str, ref: str, label: str, who: str | None = None
) -> Any:
    """Point label `label` at version `ref` of dataset `name`; returns the LabelMove."""
    _require(ws, name)
    return _store(ws).set_label(dataset_path(name), ref, label, who=who)


def set_reference(
    ws: Workspace, name: str, column: str | None, author: str | None = None
) -> str | None:
    """Mark `column` as the reference (expected output) of dataset `name`; None clears it.

    Kept in `datasets/NAME.meta.json`, versioned like the data.
    """
    dataset = load_dataset(ws, name)
    if column is not None and column not in dataset.columns:
        raise DatasetError(
            f"no column {column!r} in dataset {name!r}; the columns are "
            f"{', '.join(dataset.columns)}",
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


# --- fit and slices ---------------------------------------------------------------------


def check_fit(
    dataset: Dataset,
    prompt: _HasVariables | Sequence[str],
    mapping: Mapping[str, str] | None = None,
) -> Fit:
    """Which of the prompt's variables the dataset's columns provide, and which are missing.

    `mapping` maps a variable to a column of another name.
    """
    variables = list(prompt) if isinstance(prompt, list | tuple) else list(prompt.variables)  # type: ignore[union-attr]
    columns = set(dataset.columns)
    chosen: dict[str, str] = {}
    for variable in variables:
        column = (mapping or {}).get(variable, variable)
        if column in columns:
            chosen[variable] = column
    provided = [v for v in variables if v in chosen]
    missing = [v for v in variables if v not in chosen]
    used = set(chosen.values())
    extra = [c for c in dataset.columns if c not in used and c not in (ID, dataset.reference)]
    return Fit(provided, missing, extra, dataset.reference, chosen)


def select_rows(dataset: Dataset, spec: SliceSpec | None = None) -> list[Row]:
    """The rows of `dataset` a slice picks (None or kind "all": every row), in order."""
    return select_from(dataset.rows, dataset.columns, spec)
