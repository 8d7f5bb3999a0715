"""CSV cells a spreadsheet will not execute: the one rule every CSV Promptyard writes follows.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (OWASP "CSV injection"); prefixing `'` makes
it text again. Numbers (`-0.5` as a float) are left alone: only text can carry a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """`value` with `'` in front when it is text a spreadsheet would run; else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def write_csv(
    out: IO[str],
    fieldnames: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
    raw: bool = False,
) -> None:
    """Write a header and `rows` to `out` as CSV, every text cell neutralised unless `raw`.

    Header names go through the same rule: they are cells too.
    """
    writer = csv.writer(out)
    cell = (lambda v: v) if raw else neutralise_cell
    writer.writerow([cell(name) for name in fieldnames])
    for row in rows:
        writer.writerow([cell(row.get(name)) for name in fieldnames])
