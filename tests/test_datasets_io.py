"""Reading CSV, JSONL, JSON arrays and pasted text; every bad input says where."""

from __future__ import annotations

import pytest

from promptyard.datasets import DatasetError, dumps_jsonl, loads_jsonl, parse_table


def test_csv_with_quoted_newlines_bom_and_semicolons() -> None:
    data = '\ufeffid;text;expected\n1;"line one\nline two";"a ""quoted"" word"\n2;plain;x\n'
    table = parse_table(data.encode("utf-8"), "notes.csv")
    assert table.delimiter == ";"
    assert table.columns == ["id", "text", "expected"]  # the BOM is not part of "id"
    assert table.rows[0]["text"] == "line one\nline two"
    assert table.rows[0]["expected"] == 'a "quoted" word'
    assert table.lines == [2, 4]  # row 2 starts after the quoted newline


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [("a\tb\n1\t2\n", "\t"), ("a|b\n1|2\n", "|"), ("a,b\n1,2\n", ","), ('"x;y",b\n1,2\n', ",")],
)
def test_delimiter_is_sniffed_from_the_header(text: str, delimiter: str) -> None:
    assert parse_table(text.encode(), "f.csv").delimiter == delimiter


def test_tsv_and_single_column() -> None:
    table = parse_table(b"question\nWhat is 2+2?\nWho wrote Hamlet?\n", "q.csv")
    assert table.columns == ["question"]
    assert [r["question"] for r in table.rows] == ["What is 2+2?", "Who wrote Hamlet?"]


def test_jsonl_json_array_and_pasted_text() -> None:
    jsonl = parse_table(b'{"a": 1}\n\n{"a": 2, "b": "x"}\n', "d.jsonl")
    assert jsonl.columns == ["a", "b"] and len(jsonl.rows) == 2 and jsonl.lines == [1, 3]
    array = parse_table(b'[{"a": 1}, {"b": 2}]', "d.json")
    assert array.format == "json" and array.columns == ["a", "b"]
    pasted = parse_table("name\tage\nAda\t36\n")
    assert pasted.format == "csv" and pasted.rows == [{"name": "Ada", "age": "36"}]
    assert parse_table('{"q": "hi"}').format == "jsonl"
    assert parse_table('[{"q": "hi"}]').format == "json"


def _error(data: bytes | str, filename: str | None = "data.csv") -> DatasetError:
    with pytest.raises(DatasetError) as info:
        parse_table(data, filename)
    return info.value


def test_unbalanced_quote_names_line_column_and_field() -> None:
    err = _error(b'id,text\n1,fine\n2,"never closed\n3,more\n')
    assert (err.line, err.column, err.field) == (3, 3, "text")
    assert "data.csv, line 3, column 3" in str(err)
    assert "unbalanced quote" in str(err)


def test_quote_followed_by_text_is_malformed() -> None:
    err = _error(b'a,b\n1,"x"y\n')
    assert err.line == 2 and "malformed CSV" in str(err)


def test_ragged_rows() -> None:
    err = _error(b"a,b,c\n1,2,3\n4,5\n")
    assert err.line == 3
    assert "2 fields but the header has 3" in str(err)
    err = _error(b"a,b\n1,2,3\n")
    assert err.line == 2 and "3 fields" in str(err)


def test_invalid_json_on_line_n() -> None:
    err = _error(b'{"a": 1}\n{"a": 2,}\n', "rows.jsonl")
    assert (err.line, err.column) == (2, 9)
    assert str(err).startswith("rows.jsonl, line 2, column 9: invalid JSON")


def test_jsonl_line_that_is_not_an_object() -> None:
    err = _error(b'{"a": 1}\n[1, 2]\n', "rows.jsonl")
    assert err.line == 2 and "expected a JSON object, got an array" in str(err)


def test_json_array_errors() -> None:
    err = _error(b'[\n  {"a": 1},\n  {"a": 2\n]', "rows.json")
    assert err.line == 4 and "invalid JSON" in str(err)
    assert "item 2" in str(_error(b'[{"a": 1}, 5]', "rows.json"))
    assert "no rows" in str(_error(b"[]", "rows.json"))


def test_non_utf8_says_which_encoding_it_looks_like() -> None:
    data = "id,text\n1,café crème\n2,naïve\n".encode("cp1252")
    err = _error(data)
    assert "not UTF-8" in str(err)
    assert "1252" in str(err) or "Latin" in str(err)
    assert (err.line, err.column) == (2, 6)
    utf16 = _error("a,b\n1,2\n".encode("utf-16"))
    assert "UTF-16" in str(utf16)


def test_empty_file_and_header_without_rows() -> None:
    assert "empty" in str(_error(b""))
    assert "empty" in str(_error(b"\n  \n"))
    assert "empty" in str(_error(b"", "x.jsonl"))
    err = _error(b"id,text,expected\n")
    assert "has a header (id, text, expected) but no rows" in str(err)


def test_duplicate_and_blank_column_names() -> None:
    err = _error(b"id,text,Text,text\n1,a,b,c\n")
    assert err.field == "text" and err.line == 1
    assert "duplicate column name 'text' (columns 2 and 4)" in str(err)
    assert "column 2 of the header has no name" in str(_error(b"a,,c\n1,2,3\n"))


def test_pasted_text_errors_name_pasted_text() -> None:
    assert str(_error("", None)) == "pasted text: nothing was pasted"
    assert str(_error('{"a": }', None)).startswith("pasted text, line 1, column 7")


def test_jsonl_round_trip_keeps_unicode_and_newlines() -> None:
    rows = [{"id": "1", "text": "naïve\nline"}, {"id": "2", "n": 3, "obj": {"k": [1, 2]}}]
    text = dumps_jsonl(rows)
    assert "naïve" in text and text.count("\n") == 2
    assert loads_jsonl(text, "x.jsonl") == rows


def test_loads_jsonl_reports_the_bad_line() -> None:
    with pytest.raises(DatasetError) as info:
        loads_jsonl('{"id": "1"}\n{"id": "2"} {"id": "3"}\n', "datasets/x.jsonl")
    assert info.value.line == 2
