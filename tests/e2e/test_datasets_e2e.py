"""A user imports a CSV through the Datasets page and sees it listed with its rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from promptyard import datasets
from tests.e2e.conftest import screenshot, wait_idle

pytestmark = pytest.mark.e2e


def test_import_a_csv_and_see_it_listed(
    page: Any, app_url: str, workspace: Any, tmp_path: Path
) -> None:
    csv_file = tmp_path / "faq.csv"
    csv_file.write_text(
        'question,expected\nWhat is 2+2?,4\n"Capital of France, please?",Paris\n'
        "Largest planet?,Jupiter\n",
        encoding="utf-8",
    )
    page.goto(f"{app_url}/datasets")
    wait_idle(page)
    assert not page.errors
    page.get_by_text("Rows 1–21 of 21").wait_for()  # the first example, invoices
    screenshot(page, "datasets")

    page.get_by_text("Import", exact=True).first.click()
    wait_idle(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(csv_file))
    wait_idle(page)
    page.get_by_text("3 rows · 2 columns · CSV (comma-separated)").wait_for()
    page.get_by_role("textbox", name="Dataset name").fill("faq")
    page.keyboard.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Import", exact=True).click()
    wait_idle(page)

    page.get_by_text("Imported faq.csv as faq v1 (3 rows)").wait_for()
    page.get_by_text("Rows 1–3 of 3").wait_for()
    grid = page.locator('[data-testid="stDataFrame"]')
    grid.first.wait_for()
    assert grid.count() >= 2  # the list of datasets and the rows of faq
    page.get_by_role("button", name="Save version").wait_for()  # the run has finished
    wait_idle(page)
    screenshot(page, "datasets-imported")

    dataset = datasets.load_dataset(workspace, "faq")
    assert [row["question"] for row in dataset.rows][1] == "Capital of France, please?"
    assert "faq" in {info.name for info in datasets.list_datasets(workspace)}
    assert not page.errors


def test_edit_a_cell_and_save_a_version(page: Any, app_url: str, workspace: Any) -> None:
    page.goto(f"{app_url}/datasets")
    wait_idle(page)
    page.get_by_text("Rows 1–21 of 21").wait_for()
    page.get_by_role("button", name="Save version").wait_for()
    grid = page.locator('[data-testid="stDataFrame"]').nth(1)
    grid.locator("canvas").first.wait_for()
    grid.scroll_into_view_if_needed()
    message = page.get_by_role("textbox", name="Version message")
    for _attempt in range(3):  # the canvas grid may take a moment to accept input
        wait_idle(page)
        box = grid.bounding_box()
        assert box is not None
        # The first data row's "document" cell: below the header row, right of the id column.
        page.mouse.dblclick(box["x"] + 300, box["y"] + 35 + 17)
        editor = page.locator("textarea.gdg-input")  # the grid's cell editor overlay
        editor.wait_for()
        editor.fill("Edited invoice text")
        editor.press("Enter")
        wait_idle(page)
        if message.is_enabled():
            break
    message.fill("Edit the first invoice")
    page.keyboard.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Save version").click()
    wait_idle(page)
    page.get_by_text("Saved invoices v2 (21 rows; ~1 changed)").wait_for()
    rows = datasets.load_dataset(workspace, "invoices").rows
    assert rows[0]["document"] == "Edited invoice text"
    assert rows[0]["id"] == "inv-001" and rows[1]["document"].startswith("Contoso Ltd")
    assert not page.errors
