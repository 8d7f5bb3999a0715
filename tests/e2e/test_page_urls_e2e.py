"""Opening a page by its URL: no request of the page answers 404, and that page is drawn.

Streamlit's frontend cannot tell a page path (`/playground`) from a base URL path, so it
used to probe `/playground/_stcore/health` and `/playground/_stcore/host-config` first
(two 404s on every direct open or reload) before trying the server's root. `promptyard ui`
serves `app/server.py`, whose pages say where the server's base is.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import wait_idle

pytestmark = pytest.mark.e2e

PAGES = [("playground", "Playground"), ("settings", "Settings"), ("runs", "Runs")]


@pytest.mark.parametrize(("path", "title"), PAGES)
def test_a_page_opened_by_url_gets_no_404(
    workspace: Any, page: Any, app_url: str, path: str, title: str
) -> None:
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(f"{app_url}/{path}")
    wait_idle(page)
    page.get_by_role("heading", name=title).first.wait_for()
    page.reload()
    wait_idle(page)
    page.get_by_role("heading", name=title).first.wait_for()
    assert failed == []
    assert not page.errors
