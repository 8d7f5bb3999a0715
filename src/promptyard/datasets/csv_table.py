"""CSV files: the delimiter sniffed from the header, quoted newlines, exact error places."""

from __future__ import annotations

import csv
import io

from promptyard.datasets.table import DatasetError, ParsedTable

_DELIMITERS = (",", "\t", ";", "|")
_SNIFF_BYTES = 64 * 1024


def sniff_delimiter(header_line: str) -> str:
    """The delimiter that occurs most often outside quotes in the header line."""
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _first_record_text(text: str) -> str:
    """The header record: up to the first newline that is not inside quotes."""
    quoted = False
    for index, char in enumerate(text[:_SNIFF_BYTES]):
        if char == '"':
            quoted = not quoted
        elif char in "\r\n" and not quoted:
            return text[:index]
    return text[:_SNIFF_BYTES]


def _open_quote(line_text: str, delimiter: str) -> tuple[int, int] | None:
    """(field index, 1-based char column) of a quote on this line that is never closed."""
    quoted = False
    field_index = 0
    opened_at: tuple[int, int] | None = None
    for index, char in enumerate(line_text):
        if char == '"':
            quoted = not quoted
            opened_at = (field_index, index + 1) if quoted else None
        elif char == delimiter and not quoted:
            field_index += 1
    return opened_at if quoted else None


def parse_csv(text: str, source: str) -> ParsedTable:
    """Parse CSV text whose first record is the header row.

    The fast path reads every record in C; when anything is wrong, a second, slower pass
    finds the line and column to report.
    """
    delimiter = sniff_delimiter(_first_record_text(text))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        records = [record for record in reader if record]
    except csv.Error:
        records = []
        _parse_csv_slow(text, source, delimiter)  # raises with line and column
    if not records:
        raise DatasetError("the file is empty", source=source)
    header = _check_header(records[0], source, _first_line(text))
    width = len(header)
    if any(len(record) != width for record in records):
        _parse_csv_slow(text, source, delimiter)
    if len(records) == 1:
        raise DatasetError(
            f"the file has a header ({', '.join(header)}) but no rows", source=source, line=1
        )
    rows = [dict(zip(header, record, strict=True)) for record in records[1:]]
    return ParsedTable(
        rows,
        header,
        "csv",
        source,
        delimiter,
        _find_lines=lambda: _parse_csv_slow(text, source, delimiter),
    )


def _first_line(text: str) -> int:
    """The line of the first non-blank line (the header)."""
    stripped = text.lstrip("\r\n")
    return text[: len(text) - len(stripped)].count("\n") + 1


def _parse_csv_slow(text: str, source: str, delimiter: str) -> list[int]:
    """Walk the records keeping line numbers: the first line of each row, or the error."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    lines: list[int] = []
    start_line = 1
    try:
        for record in reader:
            if not record:  # a blank line
                start_line = reader.line_num + 1
                continue
            if header is None:
                header = _check_header(record, source, start_line)
            elif len(record) != len(header):
                raise DatasetError(
                    f"this row has {len(record)} fields but the header has {len(header)} "
                    f"({', '.join(header)})",
                    source=source,
                    line=start_line,
                )
            else:
                lines.append(start_line)
            start_line = reader.line_num + 1
    except csv.Error as exc:
        physical = text.splitlines()
        line_text = physical[start_line - 1] if 0 < start_line <= len(physical) else ""
        raise _csv_error(exc, source, start_line, line_text, delimiter, header) from None
    return lines


def _check_header(record: list[str], source: str, line: int) -> list[str]:
    header = [name.strip() for name in record]
    seen: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        if not name:
            raise DatasetError(
                f"column {position} of the header has no name", source=source, line=line
            )
        if name in seen:
            raise DatasetError(
                f"duplicate column name {name!r} (columns {seen[name]} and {position})",
                source=source,
                line=line,
                field=name,
            )
        seen[name] = position
    return header


def _csv_error(
    exc: csv.Error,
    source: str,
    start_line: int,
    line_text: str,
    delimiter: str,
    header: list[str] | None,
) -> DatasetError:
    """The DatasetError for a csv.Error on the row starting at `start_line` (`line_text`)."""
    reason = str(exc)
    if "unexpected end of data" in reason or "EOF" in reason:
        opened = _open_quote(line_text, delimiter)
        if opened is not None:
            field_index, column = opened
            name = header[field_index] if header and field_index < len(header) else None
            where = f" in field {name!r}" if name else ""
            return DatasetError(
                f"unbalanced quote: the quote opened here{where} is never closed",
                source=source,
                line=start_line,
                column=column,
                field=name,
            )
        return DatasetError(
            "unbalanced quote: a quoted field starting on this line is never closed",
            source=source,
            line=start_line,
        )
    return DatasetError(f"malformed CSV: {reason}", source=source, line=start_line)
