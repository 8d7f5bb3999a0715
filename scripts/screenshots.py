"""Take a screenshot of every page of a running workbench into docs/screenshots/.

    python scripts/screenshots.py http://127.0.0.1:8501 [page ...]

Uses Debian's Chromium through Playwright; the pages are the app's URL paths.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    "",
    "prompts",
    "datasets",
    "playground",
    "runs",
    "compare",
    "rate",
    "dashboard",
    "settings",
]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> None:
    url = sys.argv[1].rstrip("/")
    pages = sys.argv[2:] or PAGES
    out = ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.goto(url)  # the entry page first, so navigation is set up
        page.wait_for_selector('[data-testid="stApp"]')
        time.sleep(3)
        for name in pages:
            page.goto(f"{url}/{name}")
            page.wait_for_selector('[data-testid="stApp"]')
            page.wait_for_function(
                "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
                " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
                timeout=60_000,
            )
            time.sleep(float(os.environ.get("SHOT_WAIT", "2.5")))
            target = out / f"{name or 'home'}.png"
            page.screenshot(path=str(target), full_page=True)
            print(target.relative_to(ROOT))
        browser.close()


if __name__ == "__main__":
    main()
