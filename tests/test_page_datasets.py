"""The Datasets page in AppTest: list, rows, import, filter, pages, history, fit."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import state
from streamlit.testing.v1 import AppTest

from promptyard import datasets as ds
from promptyard.workspace import Workspace

PAGE = str(Path(__file__).resolve().parent.parent / "app" / "views" / "datasets.py")


def _app() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=60)


def _text(at: AppTest) -> str:
    parts = [str(el.value) for el in (*at.caption, *at.markdown, *at.success, *at.error)]
    parts += [str(el.value) for el in (*at.info, *at.warning)]
    return "\n".join(parts)


def _open(view: str, dataset: str | None = None) -> AppTest:
    at = _app()
    at.session_state[state.DATASET_VIEW] = view
    if dataset:
        at.session_state[state.DATASET_SELECTED] = dataset
    at.run()
    assert not at.exception, at.exception
    return at


def test_lists_the_example_datasets_and_shows_rows(workspace: Workspace) -> None:
    at = _open("rows", "tickets")
    listed = at.dataframe[0].value
    assert {"tickets", "summaries", "invoices"} <= set(listed["dataset"])
    assert "Rows 1–24 of 24" in _text(at)
    rows = at.dataframe[1].value
    assert list(rows.columns)[:3] == ["id", "customer_name", "product"]
    assert rows.iloc[0]["id"] == "t-001"


def test_paste_import_lists_the_new_dataset_with_its_rows(workspace: Workspace) -> None:
    at = _open("import")
    at.radio(key=state.DATASET_IMPORT_SOURCE).set_value("paste").run()
    at.text_area(key=state.DATASET_IMPORT_TEXT).input(
        "question\texpected\nWhat is 2+2?\t4\nCapital of France?\tParis\n"
    ).run()
    assert "2 rows · 2 columns · CSV (tab-separated)" in _text(at)
    at.text_input(key=state.DATASET_IMPORT_NAME).input("faq").run()
    at.button(key="datasets.import").click().run()
    assert not at.exception, at.exception
    assert "Imported pasted rows as faq v1 (2 rows)" in _text(at)
    assert at.selectbox(key=state.DATASET_SELECTED).value == "faq"
    assert "faq" in set(at.dataframe[0].value["dataset"])
    shown = at.dataframe[1].value
    assert list(shown["question"]) == ["What is 2+2?", "Capital of France?"]
    assert len(ds.load_dataset(workspace, "faq")) == 2


def test_bad_paste_shows_where_and_writes_nothing(workspace: Workspace) -> None:
    at = _open("import")
    at.radio(key=state.DATASET_IMPORT_SOURCE).set_value("paste").run()
    at.text_area(key=state.DATASET_IMPORT_TEXT).input('{"q": "a"}\n{"q": }\n').run()
    assert "pasted text, line 2, column 7: invalid JSON" in _text(at)
    assert "datasets.import" not in [button.key for button in at.button]
    assert not (workspace.root / "datasets" / "faq.jsonl").exists()


def test_import_with_an_unsafe_name_is_refused(workspace: Workspace) -> None:
    at = _open("import")
    at.radio(key=state.DATASET_IMPORT_SOURCE).set_value("paste").run()
    at.text_area(key=state.DATASET_IMPORT_TEXT).input("q\na\n").run()
    at.text_input(key=state.DATASET_IMPORT_NAME).input("../evil").run()
    at.button(key="datasets.import").click().run()
    assert "dataset name '../evil'" in _text(at)
    assert not list(workspace.root.parent.glob("evil*"))


def test_pages_of_a_large_dataset(workspace: Workspace) -> None:
    body = "".join(f"{i},text {i}\n" for i in range(1, 251))
    ds.import_dataset(workspace, "big", f"id,text\n{body}".encode(), "big.csv")
    at = _open("rows", "big")
    assert "Rows 1–100 of 250" in _text(at)
    at.number_input(key=state.DATASET_PAGE).set_value(3).run()
    assert "Rows 201–250 of 250" in _text(at)
    assert at.dataframe[1].value.iloc[0]["id"] == "201"


def test_filter_rows_and_a_bad_filter(workspace: Workspace) -> None:
    at = _open("rows", "tickets")
    at.text_input(key=state.DATASET_FILTER).input("product == 'Kettle Pro 2'").run()
    assert "matching the filter (of 24)" in _text(at)
    assert set(at.dataframe[1].value["product"]) == {"Kettle Pro 2"}
    at.text_input(key=state.DATASET_FILTER).input("colour == red").run()
    assert "filter, column 1: unknown column 'colour'" in _text(at)


def test_history_shows_each_change_and_compares(workspace: Workspace) -> None:
    ds.import_dataset(workspace, "q", b"id,text\n1,a\n2,b\n", "q.csv", message="first")
    ds.import_dataset(workspace, "q", b"id,text\n1,A\n3,c\n", "q.csv", message="second")
    at = _open("history", "q")
    table = at.dataframe[1].value
    assert list(table["version"]) == ["v2", "v1"]
    assert table.iloc[0]["change"] == "+1 added, -1 removed, ~1 changed"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Added": "1", "Removed": "1", "Changed": "1"}


def test_restore_and_label_from_history(workspace: Workspace) -> None:
    ds.import_dataset(workspace, "q", b"id,text\n1,a\n2,b\n", "q.csv", message="first")
    ds.import_dataset(workspace, "q", b"id,text\n1,a\n", "q.csv", message="second")
    at = _open("history", "q")
    at.selectbox(key=state.DATASET_RESTORE_REF).set_value("v1")
    at.button(key="datasets.restore").click().run()
    assert "Restored v1: q v3 (2 rows; +1 added)" in _text(at)
    at.text_input(key=state.DATASET_LABEL_NAME).input("golden").run()
    at.selectbox(key=state.DATASET_LABEL_REF).set_value("v2")
    at.button(key="datasets.set_label").click().run()
    assert "Label golden now points at q v2" in _text(at)
    assert len(ds.load_dataset(workspace, "q", "golden")) == 1


def test_old_version_is_read_only(workspace: Workspace) -> None:
    ds.import_dataset(workspace, "q", b"id,text\n1,a\n2,b\n", "q.csv")
    ds.import_dataset(workspace, "q", b"id,text\n1,a\n", "q.csv")
    at = _open("rows", "q")
    first_sha = ds.dataset_history(workspace, "q", changes=False)[0].sha
    at.selectbox(key=state.DATASET_REF).set_value(first_sha).run()
    assert "An old version is read-only" in _text(at)
    assert len(at.dataframe[1].value) == 2


def test_fit_shows_missing_variables(workspace: Workspace) -> None:
    at = _open("fit", "summaries")
    at.selectbox(key=state.DATASET_FIT_PROMPT).set_value("support_reply").run()
    text = _text(at)
    assert "❌ `customer_name`" in text and "❌ `product`" in text
    assert "a run of support_reply on it would be refused" in text
    at.selectbox(key=state.DATASET_FIT_PROMPT).set_value("summarize").run()
    assert "✅ `text`" in _text(at) and "every variable has a column" in _text(at)


def test_reference_column_is_saved(workspace: Workspace) -> None:
    at = _open("fit", "tickets")
    at.selectbox(key=f"{state.DATASET_REFERENCE}::tickets").set_value("category").run()
    at.button(key="datasets.set_reference").click().run()
    assert "tickets: reference column category" in _text(at)
    assert ds.load_dataset(workspace, "tickets").reference == "category"


def test_empty_workspace_offers_import(empty_workspace: Workspace) -> None:
    at = _app().run()
    assert not at.exception
    assert "No datasets yet" in _text(at)
    assert at.radio(key=state.DATASET_IMPORT_SOURCE).value == "upload"


@pytest.mark.parametrize("dataset", ["tickets", "summaries", "invoices"])
def test_editor_round_trip_changes_nothing(workspace: Workspace, dataset: str) -> None:
    """What the page hands to save_edits after an untouched editor makes no change."""
    loaded = ds.load_dataset(workspace, dataset)
    shown = loaded.rows[:10]
    frame = pd.DataFrame(ds.for_editor(shown, ds.json_columns(shown)), columns=loaded.columns)
    merged = ds.apply_edits(
        loaded.rows,
        [r["id"] for r in shown],
        frame.to_dict("records"),
        ds.json_columns(loaded.rows),
    )
    assert merged == loaded.rows
    assert json.dumps(merged, sort_keys=True) == json.dumps(loaded.rows, sort_keys=True)


def _picker_script() -> None:
    import streamlit as st
    from components.context import workspace
    from components.dataset_picker import dataset_picker

    pick = dataset_picker(workspace(), key="t")
    if pick is not None:
        st.markdown(f"PICK {pick.spec} {pick.slice.describe()} {pick.rows}")


def test_dataset_picker_gives_name_version_and_slice(workspace: Workspace) -> None:
    ds.import_dataset(workspace, "q", b"id,lang\n1,en\n2,fr\n3,en\n", "q.csv")
    ds.import_dataset(workspace, "q", b"id,lang\n1,en\n2,fr\n3,en\n4,de\n", "q.csv")
    at = AppTest.from_function(_picker_script, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    at.selectbox(key=state.dataset_pick_key("t", "name")).set_value("q").run()
    assert "PICK q all 4" in _text(at)
    first = ds.dataset_history(workspace, "q", changes=False)[0].sha
    at.selectbox(key=state.dataset_pick_key("t", "ref")).set_value(first).run()
    assert "PICK q@v1 all 3" in _text(at)
    at.radio(key=state.dataset_pick_key("t", "slice_kind")).set_value("filter").run()
    at.text_input(key=state.dataset_pick_key("t", "slice_filter")).input("lang == en").run()
    assert "PICK q@v1 filter:lang == en 2" in _text(at)
    at.text_input(key=state.dataset_pick_key("t", "slice_filter")).input("nope == 1").run()
    assert "unknown column 'nope'" in _text(at)
    at.radio(key=state.dataset_pick_key("t", "slice_kind")).set_value("random").run()
    at.number_input(key=state.dataset_pick_key("t", "slice_n")).set_value(2).run()
    assert "PICK q@v1 random:2:0 2" in _text(at)
