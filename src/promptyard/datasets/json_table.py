"""JSON Lines and JSON arrays; and the workspace's own format, JSON Lines with an `id`."""

from __future__ import annotations

import json
from typing import Any

from promptyard.datasets.table import DatasetError, ParsedTable, Row, columns_of


def parse_jsonl(text: str, source: str) -> ParsedTable:
    """Parse one JSON object per line; blank lines are skipped."""
    rows: list[Row] = []
    lines: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(
                f"invalid JSON: {exc.msg}", source=source, line=number, column=exc.colno
            ) from None
        if not isinstance(value, dict):
            raise DatasetError(
                f"expected a JSON object, got {_json_kind(value)}", source=source, line=number
            )
        rows.append(value)
        lines.append(number)
    if not rows:
        raise DatasetError("the file is empty", source=source)
    return ParsedTable(rows, columns_of(rows), "jsonl", source, _lines=lines)


def parse_json_array(text: str, source: str) -> ParsedTable:
    """Parse a JSON array of objects."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(
            f"invalid JSON: {exc.msg}", source=source, line=exc.lineno, column=exc.colno
        ) from None
    if not isinstance(value, list):
        raise DatasetError(
            f"expected a JSON array of objects, got {_json_kind(value)}", source=source
        )
    if not value:
        raise DatasetError("the JSON array has no rows", source=source)
    for index, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            raise DatasetError(
                f"item {index} of the array is {_json_kind(item)}, not a JSON object",
                source=source,
            )
    return ParsedTable(value, columns_of(value), "json", source, _lines=[])


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "null"
    return "an object"


# --- the workspace file format ----------------------------------------------------------


def dumps_jsonl(rows: list[Row]) -> str:
    """Rows as JSON Lines text, one object per line, ending in a newline."""
    encode = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    return "".join([encode(row) + "\n" for row in rows])


def loads_jsonl(text: str, source: str) -> list[Row]:
    """Rows of a workspace JSONL file; fast path first, line-by-line to report an error."""
    lines = [line for line in text.splitlines() if line.strip()]
    try:
        rows = json.loads("[" + ",".join(lines) + "]")
    except json.JSONDecodeError:
        return parse_jsonl(text, source).rows if lines else []
    if len(rows) == len(lines) and all(type(row) is dict for row in rows):
        return rows
    return parse_jsonl(text, source).rows
