"""Importing row by row: rows checked, given ids and written out as they are read.

Memory grows with the number of rows (an id and a digest per row), not with their size:
the file is never held whole, neither as text nor as rows. Errors about ids are kept
until the whole file has been read, so a malformed row anywhere is reported first, as
when the file was parsed whole; nothing reaches the workspace until every row is good.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from promptyard.datasets.ids import Change, _pair_replaced, content_key, derived_id
from promptyard.datasets.previous_rows import DIGEST, LineRows, PreviousRows, digest_of
from promptyard.datasets.row_stream import RowStream
from promptyard.datasets.table import ID, DatasetError, Row

_encode = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
_BUFFER = 1024 * 1024


@dataclass
class Written:
    """What an import wrote: row count, the file's columns, the change from the previous."""

    rows: int = 0
    columns: dict[str, None] = field(default_factory=dict)
    change: Change | None = None


class _Checks:
    """Column bookkeeping and the first id error, raised once the whole file is read."""

    def __init__(self, stream: RowStream, columns: Sequence[str] | None, id_column: str | None):
        self.stream = stream
        self.wanted = columns
        self.id_column = id_column
        self.seen: dict[str, None] = dict.fromkeys(stream.header or ())
        self.keep = None if columns is None else {*columns, ID, id_column}
        self.error: DatasetError | None = None

    def where(self, number: int) -> dict[str, Any]:
        if self.stream.item_numbers:
            return {"source": f"{self.stream.source}, item {number}"}
        return {"source": self.stream.source, "line": number}

    def also(self, number: int) -> str:
        return (
            f"{self.stream.source}, item {number}" if self.stream.item_numbers else f"line {number}"
        )

    def note(self, error: DatasetError) -> None:
        if self.error is None:
            self.error = error

    def pick(self, row: Row) -> Row:
        """`row` with its columns noted, cut to the columns to keep."""
        if not self.seen.keys() >= row.keys():
            self.seen.update(dict.fromkeys(row))
        keep = self.keep
        if keep is None or keep.issuperset(row):
            return row
        return {k: v for k, v in row.items() if k in keep}

    def finish(self) -> None:
        """Raise what is wrong with the columns asked for, then the first id error."""
        columns, source = list(self.seen), self.stream.source
        if self.id_column is not None and self.id_column not in self.seen:
            raise DatasetError(
                f"the id column {self.id_column!r} is not in the file; the columns are "
                f"{', '.join(columns)}",
                source=source,
            )
        if self.id_column is not None and self.id_column != ID and ID in self.seen:
            raise DatasetError(
                f"the file has both an 'id' column and the id column {self.id_column!r}; pick one",
                source=source,
            )
        unknown = [c for c in self.wanted or () if c not in self.seen]
        if unknown:
            raise DatasetError(
                f"no column {', '.join(map(repr, unknown))}; the columns are {', '.join(columns)}",
                source=source,
            )
        if self.error is not None:
            raise self.error


def _first_and_rest(
    rows: Iterator[tuple[Row, int]],
) -> tuple[Row | None, Iterator[tuple[Row, int]]]:
    for row, where in rows:
        return row, _prepend((row, where), rows)
    return None, rows


def _prepend(first: tuple[Row, int], rest: Iterator[tuple[Row, int]]) -> Iterator[tuple[Row, int]]:
    yield first
    yield from rest


def write_rows(
    stream: RowStream,
    out: Path,
    *,
    columns: Sequence[str] | None,
    id_column: str | None,
    previous: PreviousRows | None,
) -> Written:
    """Write the rows of `stream` to `out` as a dataset file; raises DatasetError.

    The id column is `id_column`, else `id` when the data has one, else ids are derived
    from content and kept from `previous` for unchanged and edited-in-place rows.
    """
    checks = _Checks(stream, columns, id_column)
    first, rows = _first_and_rest(stream.rows)
    mode = id_column
    if mode is None:
        has_id = ID in stream.header if stream.header is not None else ID in (first or {})
        mode = ID if has_id else None
    if mode is not None:
        written = _with_id_column(rows, out, checks, mode, previous)
    elif previous is None or not len(previous):
        written = _with_derived_ids(rows, out, checks)
    else:
        written = _with_kept_ids(rows, out, checks, previous)
    checks.finish()
    return written


def _with_id_column(
    rows: Iterator[tuple[Row, int]],
    out: Path,
    checks: _Checks,
    column: str,
    previous: PreviousRows | None,
) -> Written:
    written = Written()
    lines: dict[str, int] = {}  # id -> the line it was first seen on
    old = previous.by_id() if previous is not None else None
    added: list[str] = []
    changed: list[str] = []
    with out.open("w", encoding="utf-8", newline="", buffering=_BUFFER) as handle:
        write, out_columns = handle.write, written.columns
        for raw, where in rows:
            row = checks.pick(raw)
            value = row.get(column)
            text = (
                value.strip() if type(value) is str else "" if value is None else str(value).strip()
            )
            if not text or text in lines:
                if not text:
                    message = f"the {column!r} of this row is blank"
                else:
                    message = f"duplicate {column!r} {text!r} (also on {checks.also(lines[text])})"
                checks.note(DatasetError(message, field=column, **checks.where(where)))
                continue
            lines[text] = where
            new = {ID: text}
            new.update(row)
            new[ID] = text
            if column != ID:
                del new[column]
            if not out_columns.keys() >= new.keys():
                out_columns.update(dict.fromkeys(new))
            write(_encode(new))
            write("\n")
            if old is not None:
                before = old.get(text)
                if before is None:
                    added.append(text)
                elif before != digest_of(new):
                    changed.append(text)
    written.rows = len(lines)
    if old is not None and previous is not None:
        removed = tuple(i for i in previous.ids if i not in lines)
        written.change = Change(tuple(added), removed, tuple(changed))
    return written


def _no_id_expected(checks: _Checks, row: Row, first_where: int) -> None:
    # The first row had no `id`, so the data has an id column that row leaves blank.
    if ID in row:
        message = f"the {ID!r} of this row is blank"
        checks.note(DatasetError(message, field=ID, **checks.where(first_where)))


def _with_derived_ids(rows: Iterator[tuple[Row, int]], out: Path, checks: _Checks) -> Written:
    written = Written()
    used: set[str] = set()
    first_where: int | None = None
    with out.open("w", encoding="utf-8", newline="", buffering=_BUFFER) as handle:
        write, out_columns = handle.write, written.columns
        for raw, where in rows:
            row = checks.pick(raw)
            first_where = where if first_where is None else first_where
            _no_id_expected(checks, row, first_where)
            base = derived_id(content_key(row))
            new_id, n = base, 1
            while new_id in used:
                n += 1
                new_id = f"{base}-{n}"
            used.add(new_id)
            new = {ID: new_id}
            new.update(row)
            new[ID] = new_id
            if not out_columns.keys() >= new.keys():
                out_columns.update(dict.fromkeys(new))
            write(_encode(new))
            write("\n")
    written.rows = len(used)
    return written


def _with_kept_ids(
    rows: Iterator[tuple[Row, int]], out: Path, checks: _Checks, previous: PreviousRows
) -> Written:
    """Two passes: rows without ids to a spool file, then ids matched, then the file."""
    spool = out.with_name(out.name + ".rows")
    digests = bytearray()
    offsets = array("q")
    matched: list[int | None] = []
    columns: dict[str, None] = {ID: None}
    first_where: int | None = None
    try:
        with spool.open("wb", buffering=_BUFFER) as handle:
            offset = 0
            for raw, where in rows:
                row = checks.pick(raw)
                first_where = where if first_where is None else first_where
                _no_id_expected(checks, row, first_where)
                if ID in row:
                    row = {k: v for k, v in row.items() if k != ID}
                if not columns.keys() >= row.keys():
                    columns.update(dict.fromkeys(row))
                digest = digest_of(row)
                digests += digest
                matched.append(previous.take(digest))
                line = (_encode(row) + "\n").encode("utf-8")
                offsets.append(offset)
                offset += handle.write(line)
        by_content = [m is not None for m in matched]
        new_rows = LineRows(spool, offsets)
        try:
            old_used = [False] * len(previous)
            for index in matched:
                if index is not None:
                    old_used[index] = True
            old_ids = cast(list[str | None], previous.ids)
            _pair_replaced(new_rows, previous.rows, matched, old_used, old_ids)
        finally:
            new_rows.close()
        ids = _final_ids(matched, digests, previous.ids)
        _write_with_ids(spool, out, ids)
    finally:
        spool.unlink(missing_ok=True)
    kept = bytearray(len(previous))  # 1 for a previous row that a new row keeps
    for index in matched:
        if index is not None:
            kept[index] = 1
    added = tuple(i for i, m in zip(ids, matched, strict=True) if m is None)
    changed = tuple(
        i for i, m, same in zip(ids, matched, by_content, strict=True) if m is not None and not same
    )
    removed = tuple(i for i, keep in zip(previous.ids, kept, strict=True) if not keep)
    return Written(len(ids), columns, Change(added, removed, changed))


def _final_ids(matched: list[int | None], digests: bytearray, old_ids: list[str]) -> list[str]:
    """A kept id for matched rows; a derived one, never an old id, for the others."""
    blocked = set(old_ids)
    used: set[str] = set()
    ids: list[str] = []
    for index, old_index in enumerate(matched):
        if old_index is not None:
            new_id = old_ids[old_index]
        else:
            base = "r" + digests[index * DIGEST : index * DIGEST + 5].hex()
            new_id, n = base, 1
            while new_id in used or new_id in blocked:
                n += 1
                new_id = f"{base}-{n}"
        used.add(new_id)
        ids.append(new_id)
    return ids


def _write_with_ids(spool: Path, out: Path, ids: list[str]) -> None:
    """The spooled rows again, each with its id first (as `dumps_jsonl` writes them)."""
    with (
        spool.open("r", encoding="utf-8", newline="") as source,
        out.open("w", encoding="utf-8", newline="", buffering=_BUFFER) as handle,
    ):
        write = handle.write
        for row_id, line in zip(ids, source, strict=True):
            write('{"id": ' + _encode(row_id))
            write("}\n" if line == "{}\n" else ", " + line[1:])
