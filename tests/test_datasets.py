"""Datasets in a real workspace: import, ids, versions, history, fit, slices, edits."""

from __future__ import annotations

import json

import git
import pytest

from promptyard import datasets as ds
from promptyard.datasets import DatasetError, SliceSpec
from promptyard.errors import NotFoundError, PromptyardError
from promptyard.workspace import InvalidNameError, Workspace

CSV = b"question,expected\nWhat is 2+2?,4\nCapital of France?,Paris\nColour of the sky?,blue\n"


def _commits(ws: Workspace) -> int:
    repo = git.Repo(ws.root)
    return len(list(repo.iter_commits())) if repo.head.is_valid() else 0


def _lines(ws: Workspace, name: str) -> list[dict]:
    text = (ws.root / "datasets" / f"{name}.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_import_csv_writes_jsonl_with_ids_and_a_version(empty_workspace: Workspace) -> None:
    version = ds.import_dataset(empty_workspace, "quiz", CSV, "quiz.csv", message="First import")
    assert (version.ref, version.rows, version.message) == ("v1", 3, "First import")
    rows = _lines(empty_workspace, "quiz")
    assert [r["question"] for r in rows] == [
        "What is 2+2?",
        "Capital of France?",
        "Colour of the sky?",
    ]
    assert all(list(r)[0] == "id" and r["id"] for r in rows)
    loaded = ds.load_dataset(empty_workspace, "quiz")
    assert loaded.columns == ["id", "question", "expected"]
    assert loaded.reference == "expected"  # guessed from the column name
    assert loaded.version is not None and loaded.version.sha == version.sha


def test_reimport_keeps_ids_of_unchanged_rows_and_reports_the_change(
    empty_workspace: Workspace,
) -> None:
    ws = empty_workspace
    ds.import_dataset(ws, "quiz", CSV, "quiz.csv")
    first = {r["question"]: r["id"] for r in ds.load_dataset(ws, "quiz").rows}
    # 2+2 edited in place, the sky row replaced by an unrelated row.
    edited = (
        b"question,expected\nWhat is 2+2?,four\nCapital of France?,Paris\nLargest planet?,Jupiter\n"
    )
    version = ds.import_dataset(ws, "quiz", edited, "quiz.csv")
    second = {r["question"]: r["id"] for r in ds.load_dataset(ws, "quiz").rows}
    assert second["Capital of France?"] == first["Capital of France?"]
    assert second["What is 2+2?"] == first["What is 2+2?"]  # edited in place: same id
    assert version.change is not None
    assert version.change.summary() == "+1 added, -1 removed, ~1 changed"
    # Reordering unchanged rows keeps every id.
    reordered = (
        b"question,expected\nLargest planet?,Jupiter\nCapital of France?,Paris\nWhat is 2+2?,four\n"
    )
    moved = ds.import_dataset(ws, "quiz", reordered, "quiz.csv")
    assert {r["question"]: r["id"] for r in ds.load_dataset(ws, "quiz").rows} == second
    assert moved.change is not None and moved.change.is_empty


def test_same_data_again_makes_no_new_version(empty_workspace: Workspace) -> None:
    ds.import_dataset(empty_workspace, "quiz", CSV, "quiz.csv")
    before = _commits(empty_workspace)
    again = ds.import_dataset(empty_workspace, "quiz", CSV, "quiz.csv")
    assert again.ref == "v1" and again.change is not None and again.change.is_empty
    assert _commits(empty_workspace) == before


def test_ids_are_the_same_for_the_same_data_in_another_workspace(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ids = []
    for folder in ("a", "b"):
        root = tmp_path / folder
        root.mkdir()
        git.Repo.init(root, initial_branch="main")
        ws = Workspace(root.resolve())
        ds.import_dataset(ws, "dup", b"q\nsame\nsame\nother\n", "d.csv")
        ids.append(ds.load_dataset(ws, "dup").ids)
    assert ids[0] == ids[1]
    assert len(set(ids[0])) == 3  # the duplicate row got its own id


def test_id_column_is_used_and_validated(empty_workspace: Workspace) -> None:
    ws = empty_workspace
    ds.import_dataset(ws, "t", b"ticket,text\nT-1,a\nT-2,b\n", "t.csv", id_column="ticket")
    assert ds.load_dataset(ws, "t").rows == [{"id": "T-1", "text": "a"}, {"id": "T-2", "text": "b"}]
    with pytest.raises(DatasetError) as info:
        ds.import_dataset(ws, "u", b"id,text\n1,a\n2,b\n1,c\n", "u.csv")
    assert info.value.line == 4 and "duplicate 'id' '1' (also on line 2)" in str(info.value)
    with pytest.raises(DatasetError) as info:
        ds.import_dataset(ws, "u", b'{"id": "a", "x": 1}\n{"id": " ", "x": 2}\n', "u.jsonl")
    assert info.value.line == 2 and "blank" in str(info.value)
    with pytest.raises(DatasetError, match="not in the file"):
        ds.import_dataset(ws, "u", CSV, "u.csv", id_column="nope")
    assert not (ws.root / "datasets" / "u.jsonl").exists()


@pytest.mark.parametrize(
    ("data", "filename", "fragment"),
    [
        (b'a,b\n1,"open\n', "x.csv", "x.csv, line 2, column 3: unbalanced quote"),
        (b"a,b\n1,2\n3\n", "x.csv", "x.csv, line 3: this row has 1 fields"),
        (b'{"a": 1}\n{"a": \n', "x.jsonl", "x.jsonl, line 2, column 7: invalid JSON"),
        ("a\ncrème\n".encode("cp1252"), "x.csv", "looks like Windows-1252"),
        (b"", "x.csv", "x.csv: the file is empty"),
        (b"a,b\n", "x.csv", "header (a, b) but no rows"),
        (b"a,a\n1,2\n", "x.csv", "duplicate column name 'a'"),
        (b"id,a\n1,x\n1,y\n", "x.csv", "duplicate 'id' '1'"),
        (b"id,a\n,x\n", "x.csv", "x.csv, line 2: the 'id' of this row is blank"),
    ],
)
def test_bad_input_writes_nothing(
    workspace: Workspace, data: bytes, filename: str, fragment: str
) -> None:
    before = _commits(workspace)
    with pytest.raises(DatasetError) as info:
        ds.import_dataset(workspace, "bad", data, filename)
    assert fragment in str(info.value)
    assert not (workspace.root / "datasets" / "bad.jsonl").exists()
    assert _commits(workspace) == before


def test_size_limit_comes_from_the_setting(
    empty_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTYARD_MAX_UPLOAD_MB", "1")
    big = b"text\n" + b"x" * (1024 * 1024) + b"\n"
    with pytest.raises(DatasetError, match=r"big.csv: the file is 1.0 MB; the limit is 1 MB"):
        ds.import_dataset(empty_workspace, "big", big, "big.csv")
    assert not (empty_workspace.root / "datasets").exists()


@pytest.mark.parametrize("name", ["../evil", "a/b", ".hidden", "", "white space", "x" * 101])
def test_unsafe_names_are_refused(empty_workspace: Workspace, name: str) -> None:
    with pytest.raises(InvalidNameError):
        ds.import_dataset(empty_workspace, name, CSV, "q.csv")
    assert _commits(empty_workspace) == 0


def test_columns_to_keep(empty_workspace: Workspace) -> None:
    data = b"id,question,notes,expected\n1,a,internal,x\n2,b,internal,y\n"
    ds.import_dataset(empty_workspace, "q", data, "q.csv", columns=["question", "expected"])
    assert ds.load_dataset(empty_workspace, "q").columns == ["id", "question", "expected"]
    with pytest.raises(DatasetError, match="no column 'nope'"):
        ds.import_dataset(empty_workspace, "q2", data, "q.csv", columns=["nope"])


def test_pasted_text_and_json_array(empty_workspace: Workspace) -> None:
    v = ds.import_dataset(empty_workspace, "p", "text\tlang\nhola\tes\nhello\ten\n")
    assert v.message == "Import pasted rows (2 rows)"
    ds.import_dataset(empty_workspace, "j", b'[{"text": "a"}, {"text": "b", "n": 2}]', "j.json")
    assert ds.load_dataset(empty_workspace, "j").columns == ["id", "text", "n"]


def test_history_labels_restore_and_compare(empty_workspace: Workspace) -> None:
    ws = empty_workspace
    ds.import_dataset(ws, "q", b"id,text\n1,a\n2,b\n", "q.csv", message="one")
    ds.import_dataset(ws, "q", b"id,text\n1,a\n2,B\n3,c\n", "q.csv", message="two")
    ds.import_dataset(ws, "q", b"id,text\n1,a\n", "q.csv", message="three")
    history = ds.dataset_history(ws, "q")
    assert [(h.ref, h.message, h.rows) for h in history] == [
        ("v1", "one", 2),
        ("v2", "two", 3),
        ("v3", "three", 1),
    ]
    assert history[0].change is None
    assert history[1].change is not None and history[1].change.to_dict()["changed_ids"] == ["2"]
    assert history[2].change is not None and history[2].change.summary() == "-2 removed"
    assert ds.compare_versions(ws, "q", "v1", "v3").removed == ("2",)

    ds.set_dataset_label(ws, "q", "v2", "golden")
    assert len(ds.load_dataset(ws, "q", "golden")) == 3
    assert ds.load_dataset(ws, "q", "v1").rows[1]["text"] == "b"

    restored = ds.restore_dataset(ws, "q", "v2")
    assert restored.ref == "v4" and restored.change is not None
    assert restored.change.summary() == "+2 added"
    assert [r["text"] for r in ds.load_dataset(ws, "q").rows] == ["a", "B", "c"]


def test_list_datasets_and_not_found(workspace: Workspace) -> None:
    infos = {info.name: info for info in ds.list_datasets(workspace)}
    assert {"tickets", "summaries", "invoices"} <= set(infos)
    assert infos["tickets"].rows >= 20 and infos["tickets"].version is not None
    with pytest.raises(NotFoundError, match="dataset 'nope' not found; datasets: "):
        ds.load_dataset(workspace, "nope")


def test_example_datasets_fit_the_example_prompts(workspace: Workspace) -> None:
    from promptyard.prompts import get_prompt

    pairs = {"tickets": "support_reply", "summaries": "summarize", "invoices": "extract_invoice"}
    for dataset_name, prompt_name in pairs.items():
        dataset = ds.load_dataset(workspace, dataset_name)
        assert len(dataset) >= 20
        fit = ds.check_fit(dataset, get_prompt(prompt_name, workspace=workspace))
        assert fit.ok, (dataset_name, fit.missing)
        assert fit.reference == "expected"
        assert len(set(dataset.ids)) == len(dataset)


def test_check_fit_lists_missing_and_extra(empty_workspace: Workspace) -> None:
    ds.import_dataset(empty_workspace, "q", b"message,notes,expected\nhi,x,y\n", "q.csv")
    dataset = ds.load_dataset(empty_workspace, "q")
    fit = ds.check_fit(dataset, ["customer_name", "message", "product"])
    assert (fit.provided, fit.missing, fit.extra) == (
        ["message"],
        ["customer_name", "product"],
        ["notes"],
    )
    assert not fit.ok
    mapped = ds.check_fit(dataset, ["text"], mapping={"text": "message"})
    assert mapped.ok and mapped.mapping == {"text": "message"}


def test_reference_column_can_be_set_and_cleared(empty_workspace: Workspace) -> None:
    ds.import_dataset(empty_workspace, "q", b"input,gold\na,b\n", "q.csv", reference="gold")
    assert ds.load_dataset(empty_workspace, "q").reference == "gold"
    ds.set_reference(empty_workspace, "q", None)
    assert ds.load_dataset(empty_workspace, "q").reference is None
    with pytest.raises(DatasetError, match="no column 'nope'"):
        ds.set_reference(empty_workspace, "q", "nope")


def test_slices(empty_workspace: Workspace) -> None:
    rows = "\n".join(f"{i},{'en' if i % 2 else 'fr'},{i * 10}" for i in range(1, 21))
    ds.import_dataset(empty_workspace, "s", f"id,lang,score\n{rows}\n".encode(), "s.csv")
    dataset = ds.load_dataset(empty_workspace, "s")
    assert [r["id"] for r in ds.select_rows(dataset, SliceSpec("head", n=3))] == ["1", "2", "3"]
    picked = ds.select_rows(dataset, SliceSpec("random", n=5, seed=7))
    assert picked == ds.select_rows(dataset, SliceSpec.parse("random:5:7"))  # same seed
    assert picked != ds.select_rows(dataset, SliceSpec("random", n=5, seed=8))
    assert [int(r["id"]) for r in picked] == sorted(int(r["id"]) for r in picked)
    matched = ds.select_rows(dataset, SliceSpec.parse("filter:lang == fr and score >= 150"))
    assert [r["id"] for r in matched] == ["16", "18", "20"]
    assert len(ds.select_rows(dataset, None)) == 20
    assert len(ds.select_rows(dataset, SliceSpec("head", n=500))) == 20


def test_filter_language() -> None:
    rows = [
        {"id": "1", "text": "Refund please", "n": "3", "tag": ""},
        {"id": "2", "text": "Wi-Fi broken", "n": "12", "tag": "urgent"},
        {"id": "3", "text": "thanks!", "n": "x", "tag": "later"},
    ]
    columns = ["id", "text", "n", "tag"]

    def ids(expr: str) -> list[str]:
        pred = ds.compile_filter(expr, columns)
        return [r["id"] for r in rows if pred(r)]

    assert ids("text contains refund") == ["1"]
    assert ids("text not contains refund") == ["2", "3"]
    assert ids("n > 5") == ["2"]  # numbers compare as numbers, not text
    assert ids("tag is empty") == ["1"]
    assert ids("tag is not empty and text startswith wi") == ["2"]
    assert ids("tag == 'urgent' or id = 3") == ["2", "3"]
    assert ids("`text` != thanks!") == ["1", "2"]


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("language == en", "filter, column 1: unknown column 'language'"),
        ("text ~ x", "filter, column 6: expected an operator"),
        ("text == 'open", 'filter, column 9: unexpected "\'"'),
        ("text ==", "filter, column 8: the expression ends where a value was expected"),
        ("text == a b", "filter, column 11: expected 'and' or 'or', found 'b'"),
        ("text like x", "filter, column 6: expected an operator"),
        ("", "the filter expression is empty"),
    ],
)
def test_bad_filters_say_where(expr: str, fragment: str) -> None:
    with pytest.raises(DatasetError) as info:
        ds.compile_filter(expr, ["id", "text"])
    assert fragment in str(info.value)


@pytest.mark.parametrize("text", ["head:0", "head:x", "random", "sample:3", "filter:"])
def test_bad_slice_specs(text: str) -> None:
    with pytest.raises(DatasetError):
        SliceSpec.parse(text)


def test_edit_a_page_and_save(empty_workspace: Workspace) -> None:
    ws = empty_workspace
    body = "\n".join(f"{i},row {i}" for i in range(1, 11))
    v1 = ds.import_dataset(ws, "e", f"id,text\n{body}\n".encode(), "e.csv")
    # The editor showed rows 4-6: row 5 edited, row 6 deleted, one row added.
    edited = [
        {"id": "4", "text": "row 4"},
        {"id": "5", "text": "row five"},
        {"id": None, "text": "new row"},
    ]
    v2 = ds.save_edits(ws, "e", ["4", "5", "6"], edited, "Edit rows", base=v1.sha)
    assert v2.ref == "v2" and v2.change is not None
    assert v2.change.summary() == "+1 added, -1 removed, ~1 changed"
    texts = [r["text"] for r in ds.load_dataset(ws, "e").rows]
    assert texts[3:7] == ["row 4", "row five", "new row", "row 7"]
    # An edit that started from v1 now conflicts, and writes nothing.
    with pytest.raises(PromptyardError):
        ds.save_edits(ws, "e", ["1"], [], "Stale edit", base=v1.sha)
    assert len(ds.dataset_history(ws, "e", changes=False)) == 2


def test_save_dataset_refuses_duplicate_ids(empty_workspace: Workspace) -> None:
    with pytest.raises(DatasetError, match="duplicate id 'a'"):
        ds.save_dataset(empty_workspace, "d", [{"id": "a"}, {"id": "a"}], "dup")
    assert not (empty_workspace.root / "datasets" / "d.jsonl").exists()


def test_hand_written_file_without_ids_gets_ids_in_memory(empty_workspace: Workspace) -> None:
    folder = empty_workspace.root / "datasets"
    folder.mkdir()
    (folder / "raw.jsonl").write_text('{"text": "a"}\n{"text": "b"}\n', encoding="utf-8")
    dataset = ds.load_dataset(empty_workspace, "raw")
    assert len(set(dataset.ids)) == 2 and dataset.version is None


def test_an_untouched_table_editor_changes_nothing(empty_workspace: Workspace) -> None:
    """Rows through a DataFrame (ints with gaps become floats, gaps become NaN) and back."""
    import pandas as pd

    ws = empty_workspace
    data = b'{"id": "a", "n": 1, "tags": ["x"]}\n{"id": "b", "note": "hi"}\n'
    v1 = ds.import_dataset(ws, "mixed", data, "m.jsonl")
    loaded = ds.load_dataset(ws, "mixed")
    as_json = ds.json_columns(loaded.rows)
    frame = pd.DataFrame(ds.for_editor(loaded.rows, as_json), columns=loaded.columns)
    records = frame.to_dict("records")
    assert ds.apply_edits(loaded.rows, ["a", "b"], records, as_json) == loaded.rows
    records[1]["n"] = 5
    saved = ds.save_edits(ws, "mixed", ["a", "b"], records, "Set n of b", base=v1.sha)
    assert saved.change is not None and saved.change.changed == ("b",)
    assert ds.load_dataset(ws, "mixed").rows == [
        {"id": "a", "n": 1, "tags": ["x"]},
        {"id": "b", "n": 5, "note": "hi"},
    ]


def test_the_documented_python_example_runs(
    empty_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/datasets.md, "Python API", run as written."""
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "datasets.md").read_text()
    code = re.search(r"## Python API\n\n```python\n(.*?)```", doc, re.S)
    assert code is not None
    (empty_workspace.root / "faq.csv").write_bytes(b"question,expected\nHi?,Hello\nBye?,Ciao\n")
    monkeypatch.chdir(empty_workspace.root)
    monkeypatch.setenv("PROMPTYARD_HOME", str(empty_workspace.root))
    namespace: dict = {}
    exec(compile(code.group(1), "docs/datasets.md", "exec"), namespace)  # noqa: S102
    assert namespace["fit"].ok and len(namespace["rows"]) == 2
    assert namespace["version"].ref == "v1"


def test_a_file_edited_on_disk_has_no_version(empty_workspace: Workspace) -> None:
    ds.import_dataset(empty_workspace, "q", b"id,text\n1,a\n", "q.csv")
    assert ds.load_dataset(empty_workspace, "q").version is not None
    path = empty_workspace.root / "datasets" / "q.jsonl"
    path.write_text(path.read_text() + '{"id": "2", "text": "b"}\n')
    edited = ds.load_dataset(empty_workspace, "q")
    assert len(edited) == 2 and edited.version is None  # not the data v1 holds
    assert len(ds.load_dataset(empty_workspace, "q", "v1")) == 1


def test_read_page_matches_a_full_load(empty_workspace: Workspace) -> None:
    body = "".join(f"{i},text {i}\n" for i in range(1, 251))
    ds.import_dataset(empty_workspace, "p", f"id,text\n{body}".encode(), "p.csv", message="one")
    full = ds.load_dataset(empty_workspace, "p")
    page = ds.read_page(empty_workspace, "p", 200, 100)
    assert (page.total, page.start, page.columns) == (250, 200, ["id", "text"])
    assert page.rows == full.rows[200:]
    assert page.version is not None and page.version.sha == full.version.sha  # type: ignore[union-attr]
    assert ds.read_page(empty_workspace, "p", 300, 100).rows == []
    # A file without ids falls back to the full load, so ids agree with load_dataset.
    (empty_workspace.root / "datasets" / "raw.jsonl").write_text('{"t": "a"}\n{"t": "b"}\n')
    assert (
        ds.read_page(empty_workspace, "raw", 1, 1).rows
        == ds.load_dataset(empty_workspace, "raw").rows[1:]
    )


def test_the_public_api_is_pinned() -> None:
    assert ds.__all__ == sorted(ds.__all__)
    assert all(hasattr(ds, name) for name in ds.__all__)
    assert {"load_dataset", "select_rows", "SliceSpec", "check_fit", "import_dataset"} <= set(
        ds.__all__
    )


def test_a_deleted_dataset_keeps_its_history_and_can_be_restored(
    empty_workspace: Workspace,
) -> None:
    ws = empty_workspace
    ds.import_dataset(ws, "gone", b"id,text\n1,a\n2,b\n", "g.csv")
    deleted = ds.delete_dataset(ws, "gone")
    assert deleted.ref == "v2" and not (ws.root / "datasets" / "gone.jsonl").exists()
    assert "gone" not in {info.name for info in ds.list_datasets(ws)}
    assert len(ds.load_dataset(ws, "gone", "v1")) == 2
    restored = ds.restore_dataset(ws, "gone", "v1")
    assert restored.ref == "v3" and len(ds.load_dataset(ws, "gone")) == 2
    history = ds.dataset_history(ws, "gone")
    assert [h.deleted for h in history] == [False, True, False]


def test_rows_without_ids_next_to_rows_with_ids(empty_workspace: Workspace) -> None:
    folder = empty_workspace.root / "datasets"
    folder.mkdir()
    (folder / "mixed.jsonl").write_text('{"id": 7, "t": "a"}\n{"t": "b"}\n', encoding="utf-8")
    rows = ds.load_dataset(empty_workspace, "mixed").rows
    assert rows[0] == {"id": "7", "t": "a"} and rows[1]["id"] and rows[1]["t"] == "b"
