"""The browser opens the Monitoring page on seeded traffic: charts drawn, the change marked."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import screenshot, wait_idle
from tests.monitoring_seed import HOUR_NS, S, hour_start, seed

pytestmark = pytest.mark.e2e
MIN_NS = 60 * 1_000_000_000


def _traffic(ws: Any) -> None:
    """Six hours of calls; v2 arrives three hours ago with slower, costlier, failing calls."""
    start = hour_start() - 5 * HOUR_NS
    spans = []
    for h in range(6):
        v2 = h >= 3
        for i in range(30):
            spans.append(
                S(
                    start + h * HOUR_NS + i * 2 * MIN_NS,
                    duration_ms=(400.0 if v2 else 200.0) + 10 * i,
                    status="error" if (v2 and i % 5 == 0) or i == 7 else "ok",
                    prompt_version=2 if v2 else 1,
                    cost_usd=0.004 if v2 else 0.001,
                    ttft_ms=50.0 + i,
                    user_id=["alice", "bob", "carol"][i % 3],
                    service_name=["support-bot", "batch"][i % 2],
                )
            )
    seed(ws, spans)


def test_monitoring_page_draws_the_charts_and_marks_the_new_version(
    page: Any, app_url: str, workspace: Any
) -> None:
    _traffic(workspace)
    page.goto(f"{app_url}/monitoring")
    wait_idle(page)
    page.get_by_text("Top consumers", exact=True).wait_for()
    page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot').length >= 6"
        " && [...document.querySelectorAll('.js-plotly-plot')].every("
        "     p => p.querySelector('.main-svg') && (p.data || []).length > 0)",
        timeout=30_000,
    )
    titles = page.evaluate(
        "[...document.querySelectorAll('.js-plotly-plot')].map(p => p.layout.title.text)"
    )
    assert "Calls per hour" in titles and "Error rate" in titles
    # the dotted line of v2's first appearance is drawn with its name on the charts
    labels = page.evaluate(
        "[...document.querySelectorAll('.js-plotly-plot')].flatMap("
        "  p => (p.layout.annotations || []).map(a => a.text))"
    )
    assert "summarize v2" in labels
    assert page.locator(".js-plotly-plot .shapelayer path").count() >= 6
    screenshot(page, "monitoring")
    assert not page.errors, page.errors


def test_empty_monitoring_page_says_how_to_send_traces(
    page: Any, app_url: str, workspace: Any
) -> None:
    page.goto(f"{app_url}/monitoring")
    wait_idle(page)
    page.get_by_text("No traces yet").wait_for()
    assert page.get_by_text("promptyard collect").count() >= 1


def test_the_7_day_view_by_day_counts_every_call_of_the_week(
    page: Any, app_url: str, workspace: Any
) -> None:
    # Two calls an hour over the last 7 days, the oldest first stored last (late arrivals).
    now = hour_start()
    spans = [
        S(now - h * HOUR_NS + 5 * MIN_NS, duration_ms=100.0 + h, prompt_version=1 + (h < 72))
        for h in range(7 * 24 - 1)
        for _ in range(2)
    ]
    seed(workspace, spans[: len(spans) // 2])
    seed(workspace, spans[len(spans) // 2 :][::-1])
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{app_url}/monitoring")
    wait_idle(page)
    page.get_by_label("Range").click()
    page.get_by_role("option", name="Last 7 days").click()
    wait_idle(page)
    page.get_by_text("day", exact=True).click()
    wait_idle(page)
    page.wait_for_function(
        "[...document.querySelectorAll('.js-plotly-plot')].some("
        "  p => p.layout && p.layout.title && p.layout.title.text === 'Calls per day')",
        timeout=30_000,
    )
    calls = page.locator('[data-testid="stMetric"]').first.inner_text()
    assert f"{len(spans):,}" in calls
    screenshot(page, "monitoring-7-days")
    assert not page.errors, page.errors
