"""Reading dataset files: CSV, JSONL, a JSON array, or pasted text, into rows.

Pure functions over bytes and text; nothing here touches the workspace. Every bad input
raises `DatasetError` whose message names the file, and the line and column where they
apply.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from promptyard.errors import PromptyardError

Row = dict[str, Any]
ID = "id"  # the row-id column of every workspace dataset
Format = Literal["csv", "jsonl", "json"]

PASTED = "pasted text"
_DELIMITERS = (",", "\t", ";", "|")
_SNIFF_BYTES = 64 * 1024


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


# --- bytes to text ----------------------------------------------------------------------


def decode_text(data: bytes, source: str) -> str:
    """`data` as text: UTF-8 (a BOM is dropped); anything else is a DatasetError.

    The message says which encoding the bytes look like and where the first bad byte is.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DatasetError(
            "the file is UTF-16 text (it starts with a UTF-16 byte-order mark); "
            "save it as UTF-8 and import it again",
            source=source,
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        guess = guess_encoding(data)
        raise DatasetError(
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02X} cannot be decoded); "
            f"it looks like {guess}; save it as UTF-8 and import it again",
            source=source,
            line=line,
            column=column,
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def guess_encoding(data: bytes) -> str:
    """A person-readable name of the encoding `data` most likely uses."""
    sample = data[:_SNIFF_BYTES]
    if _looks_western(sample):
        return "Windows-1252 (cp1252)"
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(sample).best()
        if best is not None and best.encoding and best.encoding not in {"utf_8", "ascii"}:
            return _encoding_label(best.encoding)
    except ImportError:  # pragma: no cover - charset_normalizer ships with requests
        pass
    # Bytes 0x80-0x9F are printable in Windows-1252 and control codes in Latin-1.
    if any(0x80 <= b <= 0x9F for b in sample):
        return "Windows-1252 (cp1252)"
    return "Latin-1 (ISO-8859-1)"


_WESTERN_EXTRA = set("€‚„…†‡‰‘’“”•–—™«»°±²³µ·¼½¾¿×÷¡¢£¥§©®")


def _looks_western(sample: bytes) -> bool:
    """True when the bytes read as Windows-1252 give Western European letters."""
    try:
        text = sample.decode("cp1252")
    except UnicodeDecodeError:
        return False
    high = [c for c in text if ord(c) > 127]
    if not high:
        return False
    fitting = sum(1 for c in high if c.isalpha() and ord(c) <= 0x17F or c in _WESTERN_EXTRA)
    letters = sum(1 for c in text if c.isalpha())
    # In Western text accented letters are a minority; Cyrillic or Greek read as cp1252
    # would be almost all "accented".
    return fitting >= 0.9 * len(high) and len(high) <= 0.4 * max(letters, 1)


def _encoding_label(name: str) -> str:
    labels = {
        "cp1252": "Windows-1252 (cp1252)",
        "latin_1": "Latin-1 (ISO-8859-1)",
        "iso8859_15": "Latin-9 (ISO-8859-15)",
        "cp1250": "Windows-1250 (cp1250)",
        "cp1251": "Windows-1251 (cp1251)",
        "shift_jis": "Shift JIS",
        "cp932": "Shift JIS (cp932)",
        "euc_jp": "EUC-JP",
        "gb18030": "GB18030",
        "big5": "Big5",
        "utf_16": "UTF-16",
        "mac_roman": "Mac Roman",
    }
    return labels.get(name, name.replace("_", "-"))


# --- format detection -------------------------------------------------------------------


def detect_format(text: str, filename: str | None) -> Format:
    """The format of `text`: from the file extension, else from its first character."""
    lower = (filename or "").lower()
    if lower.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    if lower.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    first = text.lstrip()[:1]
    if first == "[":
        return "json"
    if first == "{":
        return "jsonl"
    return "csv"


def parse_table(
    data: bytes | str, filename: str | None = None, *, format: Format | None = None
) -> ParsedTable:
    """Parse a dataset file (bytes) or pasted text (str) into rows.

    CSV: delimiter sniffed from the header line, quoted fields may hold newlines, a BOM is
    dropped, every row must have as many fields as the header. JSONL: one object per line,
    blank lines skipped. JSON: an array of objects.
    """
    source = filename or PASTED
    text = data if isinstance(data, str) else decode_text(data, source)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise DatasetError("the file is empty" if filename else "nothing was pasted", source=source)
    fmt = format or detect_format(text, filename)
    if fmt == "csv":
        return parse_csv(text, source)
    if fmt == "json":
        return parse_json_array(text, source)
    return parse_jsonl(text, source)


# --- CSV --------------------------------------------------------------------------------


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
        raise _csv_error(exc, source, start_line, text, delimiter, header) from None
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
    text: str,
    delimiter: str,
    header: list[str] | None,
) -> DatasetError:
    physical = text.splitlines()
    line_text = physical[start_line - 1] if 0 < start_line <= len(physical) else ""
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


# --- JSON Lines and JSON arrays ---------------------------------------------------------


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


def columns_of(rows: list[Row]) -> list[str]:
    """Every key of `rows`, in order of first appearance."""
    seen: dict[str, None] = {}
    for row in rows:
        if len(row) == len(seen) and all(key in seen for key in row):
            continue
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


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
