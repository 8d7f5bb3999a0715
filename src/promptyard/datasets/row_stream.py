"""Reading an import one row at a time: text decoded as it is read, each row with its line.

A file (a path), its bytes or pasted text become a `RowStream`: the format, the CSV
header when there is one, and an iterator of `(row, where)` pairs, `where` being the
row's first line (or its item number in a JSON array). Only a prefix of the file is held
to tell the format and sniff the delimiter; a JSON array, which has no row boundaries
short of parsing it, is the one format read whole.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import IO

from promptyard.datasets.csv_table import (
    _check_header,
    _csv_error,
    _first_record_text,
    sniff_delimiter,
)
from promptyard.datasets.encoding import locate_decode_error
from promptyard.datasets.io import detect_format
from promptyard.datasets.json_table import _json_kind, parse_json_array
from promptyard.datasets.table import PASTED, DatasetError, Format, Row

Source = bytes | str | Path

_HEAD_CHARS = 64 * 1024
_CHUNK = 1024 * 1024


@dataclass
class RowStream:
    """Rows of one import, read as they are asked for.

    `header` is the CSV header (None for JSON formats, whose columns are known only at
    the end); `item_numbers` is True when `where` counts JSON array items, not lines.
    """

    rows: Iterator[tuple[Row, int]]
    format: Format
    source: str
    header: list[str] | None = None
    delimiter: str | None = None
    item_numbers: bool = False


def source_size(data: Source) -> int:
    """The size in bytes of an upload: a file on disk, bytes, or text as UTF-8."""
    if isinstance(data, Path):
        return data.stat().st_size
    return len(data) if isinstance(data, bytes) else len(data.encode("utf-8"))


def _open_binary(data: Source) -> IO[bytes]:
    return data.open("rb") if isinstance(data, Path) else io.BytesIO(data)  # type: ignore[arg-type]


@contextmanager
def _text_of(data: Source, source: str) -> Iterator[IO[str]]:
    """`data` as a text stream that decodes UTF-8 as it is read (a BOM is dropped)."""
    if isinstance(data, str):
        yield io.StringIO(data[1:] if data.startswith("\ufeff") else data, newline="")
        return
    with _open_binary(data) as raw:
        if raw.read(2) in (b"\xff\xfe", b"\xfe\xff"):
            raise DatasetError(
                "the file is UTF-16 text (it starts with a UTF-16 byte-order mark); "
                "save it as UTF-8 and import it again",
                source=source,
            )
        raw.seek(0)
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        try:
            yield text
        except UnicodeDecodeError:
            # Find the first bad byte again from the start: its line, column and a guess.
            with _open_binary(data) as again:
                raise locate_decode_error(iter(lambda: again.read(_CHUNK), b""), source) from None


def _head(text: IO[str]) -> str:
    """The first ~64 KB of text, ending at a line end, and more while it is only blank."""
    head = text.read(_HEAD_CHARS) + text.readline()
    while head and not head.strip():
        more = text.read(_HEAD_CHARS) + text.readline()
        if not more:
            break
        head += more
    return head


@contextmanager
def open_rows(
    data: Source, filename: str | None = None, *, format: Format | None = None
) -> Iterator[RowStream]:
    """The rows of `data` (a file path, file bytes, or pasted text), read as iterated.

    Errors in the data raise DatasetError when the row they are on is reached, naming the
    file, the line and the column; the format, the header and an empty file are checked
    on entry.
    """
    source = filename or PASTED
    with _text_of(data, source) as text:
        head = _head(text)
        if not head.strip():
            raise DatasetError(
                "the file is empty" if filename else "nothing was pasted", source=source
            )
        fmt = format or detect_format(head, filename)
        lines = chain(io.StringIO(head, newline=""), text)
        if fmt == "csv":
            yield _csv_stream(lines, head, data, source)
        elif fmt == "json":
            table = parse_json_array(head + text.read(), source)
            numbered = ((row, number) for number, row in enumerate(table.rows, start=1))
            yield RowStream(numbered, "json", source, item_numbers=True)
        else:
            yield RowStream(_jsonl_rows(lines, source), "jsonl", source)


def _jsonl_rows(lines: Iterator[str], source: str) -> Iterator[tuple[Row, int]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line.rstrip("\r\n"))
        except json.JSONDecodeError as exc:
            raise DatasetError(
                f"invalid JSON: {exc.msg}", source=source, line=number, column=exc.colno
            ) from None
        if type(value) is not dict:
            raise DatasetError(
                f"expected a JSON object, got {_json_kind(value)}", source=source, line=number
            )
        yield value, number


def _physical_line(data: Source, source: str, number: int) -> str:
    """Line `number` of the file, read again from the start (for an error message)."""
    with _text_of(data, source) as text:
        for index, line in enumerate(text, start=1):
            if index == number:
                return line.rstrip("\r\n")
    return ""


def _csv_stream(lines: Iterator[str], head: str, data: Source, source: str) -> RowStream:
    delimiter = sniff_delimiter(_first_record_text(head))
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    start_line = 1

    def fail(exc: csv.Error, header: list[str] | None) -> DatasetError:
        line_text = _physical_line(data, source, start_line)
        return _csv_error(exc, source, start_line, line_text, delimiter, header)

    try:
        record: list[str] = []
        for record in reader:
            if record:
                break
            start_line = reader.line_num + 1
    except csv.Error as exc:
        raise fail(exc, None) from None
    if not record:
        raise DatasetError("the file is empty", source=source)
    header = _check_header(record, source, start_line)
    header_line = start_line
    start_line = reader.line_num + 1

    def rows() -> Iterator[tuple[Row, int]]:
        nonlocal start_line
        width = len(header)
        count = 0
        try:
            for record in reader:
                if len(record) != width:
                    if not record:  # a blank line
                        start_line = reader.line_num + 1
                        continue
                    raise DatasetError(
                        f"this row has {len(record)} fields but the header has {width} "
                        f"({', '.join(header)})",
                        source=source,
                        line=start_line,
                    )
                yield dict(zip(header, record, strict=True)), start_line
                count += 1
                start_line = reader.line_num + 1
        except csv.Error as exc:
            raise fail(exc, header) from None
        if not count:
            raise DatasetError(
                f"the file has a header ({', '.join(header)}) but no rows",
                source=source,
                line=header_line,
            )

    return RowStream(rows(), "csv", source, header, delimiter)
