"""The Runs page's run picker follows the run: "running" while it runs, "completed" after."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from promptyard.storage import db
from promptyard.storage.tables import Run, RunStatus, utcnow
from tests.e2e.conftest import wait_idle
from tests.ratings_seed import seed_run

pytestmark = pytest.mark.e2e


def _set(ws: Any, run_id: int, **values: Any) -> None:
    def _write(s: Session) -> None:
        run = s.get(Run, run_id)
        assert run is not None
        for k, v in values.items():
            setattr(run, k, v)
        s.add(run)

    db.write(ws, _write)


def test_the_picker_says_completed_once_the_run_completed(
    workspace: Any, page: Any, app_url: str
) -> None:
    seeded = seed_run(workspace, rows=2)
    # A run in progress: this test's process is its live worker, beating now.
    _set(
        workspace,
        seeded.run_id,
        status=RunStatus.RUNNING,
        worker_pid=os.getpid(),
        heartbeat_at=utcnow(),
        finished_at=None,
    )
    page.goto(f"{app_url}/runs")
    wait_idle(page)
    picker = page.get_by_role("combobox", name="Run")
    page.get_by_text(f"Run {seeded.run_id} · running").first.wait_for()  # the panel's title
    assert picker.input_value().startswith(f"Run {seeded.run_id} · running")
    _set(
        workspace, seeded.run_id, status=RunStatus.COMPLETED, worker_pid=None, finished_at=utcnow()
    )
    page.get_by_text(f"Run {seeded.run_id} · completed").first.wait_for()
    wait_idle(page)
    # Before the fix the panel said "completed" while the picker kept "running".
    expect(picker).to_have_value(re.compile(rf"^Run {seeded.run_id} · completed"), timeout=10_000)
