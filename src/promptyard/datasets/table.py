"""The rows a dataset file parses into, and the error every reader raises.

`Row` is one row (a dict); `ID` is the row-id column every workspace dataset has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from promptyard.errors import PromptyardError

Row = dict[str, Any]
ID = "id"  # the row-id column of every workspace dataset
Format = Literal["csv", "jsonl", "json"]

PASTED = "pasted text"


class DatasetError(PromptyardError):
    """Bad dataset input; `line`, `column` and `field` say where, when they apply."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        column: int | None = None,
        field: str | None = None,
    ) -> None:
        parts = [source] if source else []
        if line is not None:
            parts.append(f"line {line}")
        if column is not None:
            parts.append(f"column {column}")
        where = ", ".join(parts)
        super().__init__(f"{where}: {message}" if where else message)
        self.source = source
        self.line = line
        self.column = column
        self.field = field


@dataclass
class ParsedTable:
    """Rows read from one file: `columns` in file order; `lines[i]` = first line of row i."""

    rows: list[Row]
    columns: list[str]
    format: Format
    source: str
    delimiter: str | None = None
    _lines: list[int] | None = field(default=None, repr=False)
    _find_lines: Callable[[], list[int]] | None = field(default=None, repr=False)

    @property
    def lines(self) -> list[int]:
        """The line each row starts on (empty for a JSON array); computed when first asked."""
        if self._lines is None:
            self._lines = self._find_lines() if self._find_lines else []
        return self._lines


def columns_of(rows: list[Row]) -> list[str]:
    """Every key of `rows`, in order of first appearance."""
    seen: dict[str, None] = {}
    for row in rows:
        if len(row) == len(seen) and all(key in seen for key in row):
            continue
        for key in row:
            seen.setdefault(key, None)
    return list(seen)
