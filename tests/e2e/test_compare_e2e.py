"""A person compares a simulated run, rates cells inline, does blind pairs; and model
output full of HTML, script and remote images stays inert text in the page."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from promptyard import ratings, runs
from tests.e2e.conftest import screenshot, settle, wait_idle
from tests.ratings_seed import seed_run

pytestmark = pytest.mark.e2e

EVIL = (
    "<script>window.__pwned = 1</script>"
    '<img src="http://evil.example/x.png" onerror="window.__pwned = 2">'
    " ![pixel](http://evil.example/pixel.png) "
    '<iframe src="http://evil.example/frame"></iframe>'
    '<a href="javascript:window.__pwned=3">click</a> <b>bold?</b> :smile: $x^2$'
)


def _simulated_run(ws: Any) -> int:
    plan = runs.plan_run(
        ws, [("summarize", None)], ["sim-fast", "sim-smart"], ("summaries", None), slice="head:6"
    )
    run_id = runs.create_run(ws, plan)
    # Playwright's sync API owns this thread's event loop; the run gets a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        summary = pool.submit(runs.run_sync, ws, run_id).result(timeout=120)
    assert summary.ok == 12
    return run_id


def _set_name(page: Any, name: str) -> None:
    field = page.get_by_role("textbox", name="Your name")
    field.fill(name)
    field.press("Enter")
    wait_idle(page)


def _pick(page: Any, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option).first.click()
    wait_idle(page)


def test_compare_rate_inline_and_blind_pairs(workspace: Any, page: Any, app_url: str) -> None:
    run_id = _simulated_run(workspace)
    page.goto(f"{app_url}/compare")
    wait_idle(page)
    page.get_by_text("6 rows × 2 columns").wait_for()
    _set_name(page, "ann")
    _pick(page, "Rate inline with", "quality (numeric 1 to 5)")
    groups = page.locator('[data-testid="stButtonGroup"]')
    # the first group is the rated/unrated filter; then one rating control per cell
    for index, value in ((1, "4"), (2, "2"), (3, "5")):
        groups.nth(index).get_by_role("radio", name=value, exact=True).click()
        page.get_by_text(f"ratings quality: {index}").wait_for()
        wait_idle(page)
    screenshot(page, "compare-rated")
    stored = ratings.current_ratings(workspace, run_id, "quality")
    assert sorted(ratings.rating_value(r) for r in stored) == [2, 4, 5]
    assert {r.rater for r in stored} == {"ann"}

    page.get_by_role("link", name="Rate").click()
    page.get_by_role("radio", name="Blind pairs").wait_for()
    wait_idle(page)
    name_field = page.get_by_role("textbox", name="Your name")
    name_field.wait_for()
    assert name_field.input_value() == "ann"  # the name follows the rater across pages
    page.get_by_role("radio", name="Blind pairs").click()
    page.get_by_role("button", name="Start blind session").wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Start blind session").click()
    page.get_by_role("button", name="Left is better").wait_for()
    wait_idle(page)
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "sim-fast" not in body and "sim-smart" not in body  # variants stay hidden
    for n in range(5):
        page.get_by_role("button", name="Left is better").click()
        wait_idle(page)
        page.get_by_text(f"You voted on {n + 1} of 6 pairs").wait_for()
    page.get_by_text("pairwise 5").wait_for()
    screenshot(page, "rate-blind-pairs")
    assert ratings.rating_counts(workspace, run_id)["pairwise"] == 5
    assert not page.errors


def test_model_output_is_inert(workspace: Any, page: Any, app_url: str) -> None:
    seeded = seed_run(
        workspace, rows=2, output=lambda row, variant, rep: f"Answer {variant}. {EVIL}"
    )
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{app_url}/compare")
    wait_idle(page)
    page.get_by_text("2 rows × 2 columns").wait_for()
    # plain text view: the markup is shown as characters
    page.get_by_text(
        "<script>window.__pwned = 1</script>", exact=False
    ).first.wait_for()  # shown as characters
    # the word-diff view goes through escaped markdown
    _pick(page, "Pin a baseline column (highlight differences from it)", "summarize v1 · sim-fast")
    page.get_by_text("![pixel](http", exact=False).first.wait_for()  # shown as characters
    assert page.locator('[data-testid="stMain"] a[href*="evil.example"]').count() == 0
    screenshot(page, "compare-inert-diff")
    # the trace view
    page.get_by_role("button", name="Trace").first.click()
    wait_idle(page)
    page.get_by_text("Rendered messages").wait_for()
    # a labeling session shows the output too
    page.get_by_role("link", name="Rate").click()
    page.get_by_role("radio", name="Blind pairs").wait_for()
    wait_idle(page)
    _set_name(page, "ann")
    page.get_by_role("button", name="Start labeling session").click()
    page.get_by_role("button", name="Skip").wait_for()
    wait_idle(page)
    page.get_by_text("<iframe", exact=False).first.wait_for()  # shown as characters
    # every image has loaded or failed (its onerror has run), and the page stays quiet
    page.wait_for_function("[...document.images].every(image => image.complete)")
    settle(page, 500)

    assert page.evaluate("typeof window.__pwned") == "undefined"
    for tag in ("script", "img", "iframe"):
        hostile = page.locator(f'[data-testid="stMain"] {tag}')
        for i in range(hostile.count()):
            src = hostile.nth(i).get_attribute("src") or ""
            assert "evil.example" not in src
    assert page.locator('a[href^="javascript:"]').count() == 0
    outside = [u for u in requests if not u.startswith(app_url) and not u.startswith("data:")]
    assert outside == [], outside
    assert seeded.run_id and not page.errors
