"""Reading dataset files: CSV, JSONL, a JSON array, or pasted text, into rows.

Pure functions over bytes and text; nothing here touches the workspace. Every bad input
raises `DatasetError` whose message names the file, and the line and column where they
apply.

The format is told by the file name or the first character; the readers live in
`csv_table` and `json_table`, the text decoding in `encoding`.
"""

from __future__ import annotations

from promptyard.datasets.csv_table import parse_csv
from promptyard.datasets.encoding import decode_text
from promptyard.datasets.json_table import parse_json_array, parse_jsonl
from promptyard.datasets.table import PASTED, DatasetError, Format, ParsedTable


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
