"""Reading datasets: `datasets/NAME.jsonl` at any version, a page of rows, the list.

A hand-written file without ids gets ids in memory; `NAME.meta.json` beside it names the
reference (expected output) column.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from promptyard.datasets.ids import assign_ids, check_ids
from promptyard.datasets.json_table import loads_jsonl
from promptyard.datasets.records import (
    REFERENCE_GUESSES,
    Dataset,
    DatasetInfo,
    RowsPage,
    as_version,
    dataset_path,
)
from promptyard.datasets.table import ID, Row, columns_of
from promptyard.errors import NotFoundError
from promptyard.versioning import Store, Version
from promptyard.workspace import OutsideWorkspaceError, Workspace, validate_name

log = logging.getLogger(__name__)


def _meta_path(name: str) -> str:
    return f"datasets/{name}.meta.json"


def _store(ws: Workspace) -> Store:
    return Store(ws)


def _latest(ws: Workspace, name: str) -> Version | None:
    history = _store(ws).history(dataset_path(name))
    return history[-1] if history else None


def _names(ws: Workspace) -> list[str]:
    if not ws.datasets_dir.is_dir():
        return []
    return sorted(p.name[: -len(".jsonl")] for p in ws.datasets_dir.glob("*.jsonl") if p.is_file())


def _require(ws: Workspace, name: str) -> None:
    validate_name(name, "dataset")
    if not ws.file(dataset_path(name)).is_file():  # a link out of the workspace: refused
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


def _text_at(ws: Workspace, name: str, ref: str | None) -> tuple[str, Version | None]:
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
    if latest is not None and store.has_unsaved_edits(path):
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
    version = as_version(name, latest, rows=len(rows)) if latest is not None else None
    return Dataset(name, rows, columns, version, _reference_for(_read_meta(ws, name), columns))


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
    version = as_version(name, latest, rows=len(lines)) if latest is not None else None
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
        try:
            data = ws.file(dataset_path(name)).read_bytes()
        except OutsideWorkspaceError as exc:  # listed nowhere, refused wherever it is used
            log.warning("dataset %s left out of the list: %s", name, exc)
            continue
        count = _count_rows(data)
        first_line = data[: data.find(b"\n")] if b"\n" in data else data
        try:
            first = json.loads(first_line) if first_line.strip() else {}
        except ValueError:
            first = {}
        columns = list(first) if isinstance(first, dict) else []
        latest = _latest(ws, name)
        version = as_version(name, latest, rows=count) if latest is not None else None
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
