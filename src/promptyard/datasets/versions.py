"""A dataset's versions: history with row changes, comparing, restoring, deleting, labels."""

from __future__ import annotations

from promptyard.datasets.ids import Change, changes_between
from promptyard.datasets.loading import _require, _rows_of_text, _store, load_dataset
from promptyard.datasets.records import DatasetVersion, as_version, dataset_path
from promptyard.datasets.table import Row
from promptyard.versioning import LabelMove
from promptyard.workspace import Workspace, validate_name


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
            result.append(as_version(name, v))
            continue
        rows = [] if getattr(v, "deleted", False) else _rows_of_text(store.read_version(v), path)
        change = changes_between(previous, rows) if previous is not None else None
        result.append(as_version(name, v, rows=len(rows), change=change))
        previous = rows
    return result


def compare_versions(ws: Workspace, name: str, ref_a: str, ref_b: str) -> Change:
    """What changed from version `ref_a` to version `ref_b` of dataset `name`."""
    old = load_dataset(ws, name, ref_a)
    new = load_dataset(ws, name, ref_b)
    return changes_between(old.rows, new.rows)


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
    return as_version(name, saved, rows=len(after), change=changes_between(before, after))


def delete_dataset(ws: Workspace, name: str, message: str | None = None) -> DatasetVersion:
    """Delete dataset `name` (its history stays in git)."""
    _require(ws, name)
    saved = _store(ws).delete(dataset_path(name), message or f"Delete dataset {name}")
    return as_version(name, saved, rows=0)


def set_dataset_label(
    ws: Workspace, name: str, ref: str, label: str, who: str | None = None
) -> LabelMove:
    """Point label `label` at version `ref` of dataset `name`; returns the LabelMove."""
    _require(ws, name)
    return _store(ws).set_label(dataset_path(name), ref, label, who=who)
