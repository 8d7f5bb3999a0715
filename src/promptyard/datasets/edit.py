"""Rows to and from a table editor: JSON cells as text, type noise ignored, edits merged."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from promptyard.datasets.table import ID, Row


def _plain(value: Any) -> Any:
    """A JSON-ready value: numpy scalars unwrapped, NaN/NaT to None."""
    if hasattr(value, "item") and not isinstance(value, list | dict | str):
        try:
            value = value.item()
        except (ValueError, TypeError):
            pass
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is not None and type(value).__name__ in ("NaTType", "NAType"):
        return None
    return value


def clean_rows(rows: Iterable[Mapping[str, Any]]) -> list[Row]:
    cleaned = []
    for row in rows:
        clean = {str(k): _plain(v) for k, v in row.items()}
        if clean.get(ID) is not None and str(clean[ID]).strip():
            clean[ID] = str(clean[ID]).strip()
        else:
            clean.pop(ID, None)
        cleaned.append(clean)
    return cleaned


def json_columns(rows: Sequence[Row]) -> list[str]:
    """Columns holding a JSON object or array in some row (shown as JSON text in an editor)."""
    found: dict[str, None] = {}
    for row in rows:
        for key, value in row.items():
            if isinstance(value, dict | list):
                found.setdefault(key, None)
    return list(found)


def for_editor(rows: Sequence[Row], as_json: Sequence[str]) -> list[Row]:
    """Rows for a table editor: objects and arrays in `as_json` columns become JSON text."""
    if not as_json:
        return list(rows)
    encode = json.JSONEncoder(ensure_ascii=False).encode
    out = []
    for row in rows:
        copy = dict(row)
        for column in as_json:
            if isinstance(copy.get(column), dict | list):
                copy[column] = encode(copy[column])
        out.append(copy)
    return out


def _from_editor(rows: list[Row], as_json: Sequence[str]) -> list[Row]:
    for row in rows:
        for column in as_json:
            value = row.get(column)
            if isinstance(value, str) and value.strip()[:1] in ("{", "["):
                try:
                    row[column] = json.loads(value)
                except ValueError:
                    pass  # text that only looks like JSON stays text
    return rows


def apply_edits(
    rows: Sequence[Row],
    shown_ids: Sequence[str],
    edited: Iterable[Mapping[str, Any]],
    as_json: Sequence[str] = (),
) -> list[Row]:
    """`rows` after an edit of the rows `shown_ids` (one page of a table editor).

    Shown rows missing from `edited` are deleted, edited rows replace the row with their
    id, and rows without an id (added in the editor) go after the last shown row. Cells
    of `as_json` columns are read back from JSON text.
    """
    shown = set(shown_ids)
    cleaned = _from_editor(clean_rows(edited), as_json)
    by_id = {row[ID]: row for row in cleaned if ID in row and row[ID] in shown}
    added = [row for row in cleaned if ID not in row or row[ID] not in shown]
    result: list[Row] = []
    last_shown = max(
        (i for i, row in enumerate(rows) if row.get(ID) in shown), default=len(rows) - 1
    )
    for index, row in enumerate(rows):
        row_id = row.get(ID)
        if row_id in shown:
            if row_id in by_id:
                result.append(_merge_edit(row, by_id[row_id]))
        else:
            result.append(row)
        if index == last_shown:
            result.extend(added)
    if not rows:
        result.extend(added)
    return result


def _merge_edit(original: Row, edited: Row) -> Row:
    """`edited`, keeping the original value where a table editor only changed its type.

    An editor turns a missing cell into None and an int column with gaps into floats; an
    unchanged cell must not count as a change.
    """
    merged: Row = {}
    for key, value in edited.items():
        if key in original:
            before = original[key]
            same = before == value and type(before) is not bool and type(value) is not bool
            merged[key] = (
                before if same or (before in ("", None) and value in ("", None)) else value
            )
        elif value not in (None, ""):
            merged[key] = value
    for key, value in original.items():
        if key not in edited:
            merged[key] = value  # a column the editor did not show
    return merged
