"""A rater labels ten cells on the Rate page with the keyboard alone, in a real browser:
digits rate, S skips (the cell comes back at the end), ← goes back, U undoes."""

from __future__ import annotations

from typing import Any

import pytest

from promptyard import ratings
from tests.e2e.conftest import screenshot, wait_idle
from tests.ratings_seed import default_output, seed_run

pytestmark = pytest.mark.e2e


def _output_shown(page: Any, row: int, variant: int) -> None:
    page.get_by_text(default_output(row, variant, 0), exact=True).wait_for()
    wait_idle(page)


def test_ten_cells_rated_with_the_keyboard_alone(workspace: Any, page: Any, app_url: str) -> None:
    seeded = seed_run(workspace, rows=6)  # 12 cells, in order (row, variant)
    ratings.open_session(workspace, seeded.run_id, "rate", "quality")
    page.goto(f"{app_url}/rate")
    wait_idle(page)
    name = page.get_by_role("textbox", name="Your name")
    name.focus()
    page.keyboard.type("kim")
    page.keyboard.press("Enter")
    wait_idle(page)
    # Leave the text box, as a click elsewhere or Esc would: keys typed into a box stay text.
    page.evaluate("document.activeElement && document.activeElement.blur()")
    _output_shown(page, 0, 0)
    page.get_by_text("Keys:").first.wait_for()

    page.keyboard.press("S")  # cell (0, 0) for later
    _output_shown(page, 0, 1)
    order = [(r, v) for r in range(6) for v in range(2)][1:]  # (0,1) .. (5,1)
    values = [5, 4, 3, 2, 1, 5, 4, 3, 1]
    for (row, variant), value in zip(order, values, strict=False):
        page.keyboard.press(str(value))
        nxt = order[order.index((row, variant)) + 1]
        _output_shown(page, *nxt)
    page.keyboard.press("U")  # take back the 9th rating: cell (4, 1) shows again
    _output_shown(page, 4, 1)
    page.keyboard.press("2")
    _output_shown(page, 5, 0)
    page.keyboard.press("ArrowLeft")  # back to (4, 1), rated 2
    _output_shown(page, 4, 1)
    page.get_by_text("Rated earlier: 2").wait_for()
    page.keyboard.press("ArrowRight")
    _output_shown(page, 5, 0)
    page.keyboard.press("4")
    _output_shown(page, 5, 1)
    page.keyboard.press("1")
    _output_shown(page, 0, 0)  # every other cell done: the skipped one comes back
    page.get_by_text("A cell you skipped earlier").wait_for()
    screenshot(page, "rate")
    page.keyboard.press("3")
    page.get_by_text("All done").wait_for()
    wait_idle(page)

    mine = ratings.current_ratings(workspace, seeded.run_id, "quality", rater="kim")
    by_cell = {r.cell_id: ratings.rating_value(r) for r in mine}
    assert len(by_cell) == 12
    assert by_cell[seeded.cell_id(0, 0)] == 3  # skipped, rated last
    assert by_cell[seeded.cell_id(0, 1)] == 5
    assert by_cell[seeded.cell_id(4, 1)] == 2  # undone (it was 1), rated 2
    assert by_cell[seeded.cell_id(5, 0)] == 4
    assert by_cell[seeded.cell_id(5, 1)] == 1
    history = ratings.rating_history(workspace, seeded.cell_id(4, 1), "quality", "kim")
    assert len(history) == 1  # the undone rating left nothing behind
    assert not page.errors
