"""The browser walk ends on the Dashboard with its charts drawn; a pick opens Compare."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.dashboard_seed import seed_small, seed_versions
from tests.e2e.conftest import screenshot, settle, wait_idle

pytestmark = pytest.mark.e2e


def _plots(page: Any) -> int:
    return int(page.evaluate("document.querySelectorAll('.js-plotly-plot .main-svg').length"))


def test_dashboard_draws_every_chart_from_seeded_runs(
    page: Any, app_url: str, workspace: Any
) -> None:
    seed_versions(workspace, versions=3)
    seed_small(workspace)
    page.goto(f"{app_url}/dashboard")
    wait_idle(page)
    page.get_by_text("Leaderboard", exact=True).wait_for()
    # six plotly charts, each with its drawn SVG and at least one trace
    page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot').length >= 6"
        " && [...document.querySelectorAll('.js-plotly-plot')].every("
        "     p => p.querySelector('.main-svg') && (p.data || []).length > 0)",
        timeout=30_000,
    )
    assert _plots(page) >= 6
    titles = page.evaluate(
        "[...document.querySelectorAll('.js-plotly-plot')].map(p => p.layout.title.text)"
    )
    assert any(t.startswith("Leaderboard") for t in titles)
    assert "Latency per variant (ms)" in titles
    assert any("against cost per call" in t for t in titles)
    assert page.get_by_text("At 1M calls a month,").count() == 1
    screenshot(page, "dashboard")
    page.locator(".js-plotly-plot").first.scroll_into_view_if_needed()
    screenshot(page, "dashboard-charts")
    assert not page.errors, page.errors


def test_empty_state_then_a_picked_bar_opens_compare(
    page: Any, app_url: str, workspace: Any
) -> None:
    page.goto(f"{app_url}/dashboard")
    wait_idle(page)
    page.get_by_text("Nothing to show yet").wait_for()
    assert _plots(page) == 0
    seeded = seed_small(workspace)
    page.reload()
    wait_idle(page)
    page.get_by_text("Leaderboard", exact=True).wait_for()
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 6")
    # Click the cost bar of summarize v2 · sim-smart (the priciest, drawn last = on top).
    cost = page.locator(".js-plotly-plot").filter(has_text="Cost per 1,000 calls")
    bar = cost.locator(".bars .point path").last
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    assert box is not None
    # plotly's drag layer lies over the bars: click where the bar is, as a person does
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url("**/compare**", timeout=30_000)
    wait_idle(page)
    # Compare opens on that run, with the picked variant pinned as its baseline.
    run_label = f"#{seeded.run1} nightly · tickets"
    # (a selectbox shows its value in an input, so look at the HTML, not the text)
    page.wait_for_function(
        "([run, pinned]) => document.body.innerHTML.includes(run)"
        " && [...document.querySelectorAll('[data-testid=stSelectbox]')].some("
        "     s => s.innerText.includes('Pin a baseline') && s.innerHTML.includes(pinned))",
        arg=[run_label, "summarize v2 · sim-smart"],
        timeout=30_000,
    )
    screenshot(page, "dashboard-to-compare")
    assert not page.errors, page.errors


def test_selecting_a_leaderboard_row_opens_compare(page: Any, app_url: str, workspace: Any) -> None:
    seeded = seed_small(workspace)
    page.goto(f"{app_url}/dashboard")
    wait_idle(page)
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for()
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box is not None
    # The row-selection checkbox of the first row (v2 · sim-fast, first since issue 15 ranks
    # by one scheme, quality, instead of thumbs and quality averaged): the grid is a canvas,
    # so click where it is drawn (a 35 px header, then 35 px rows).
    page.mouse.click(box["x"] + 16, box["y"] + 35 + 17)
    page.wait_for_url("**/compare**", timeout=30_000)
    wait_idle(page)
    page.wait_for_function(
        "([run, pinned]) => document.body.innerHTML.includes(run)"
        " && [...document.querySelectorAll('[data-testid=stSelectbox]')].some("
        "     s => s.innerText.includes('Pin a baseline') && s.innerHTML.includes(pinned))",
        arg=[f"#{seeded.run1} nightly · tickets", "summarize v2 · sim-fast"],
        timeout=30_000,
    )
    # Back on the Dashboard (same session), the old pick does not send us away again.
    page.get_by_role("link", name=re.compile("dashboard", re.IGNORECASE)).first.click()
    wait_idle(page)
    page.get_by_text("Leaderboard", exact=True).wait_for()
    settle(page, 1_000)  # no script run starts that could send us away again
    assert page.url.endswith("/dashboard")
    assert not page.errors, page.errors
