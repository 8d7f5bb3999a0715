"""A run's API key: read once per model from the run's workspace, sent on every call."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promptyard import runs
from promptyard.models import SimulatorHandle, start_simulator
from promptyard.storage.tables import RunStatus

KEY = "sk-promptyard-secrets-only-5e1d0c9b8a7f6e5d"


@pytest.fixture
def sim() -> Iterator[SimulatorHandle]:
    handle = start_simulator(api_key=KEY)  # a call without the key gets a 401
    yield handle
    handle.stop()


def test_a_key_only_in_the_workspace_secrets_goes_with_every_call(
    workspace: Any, sim: SimulatorHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workspace.root / "models.yaml").write_text(
        "models:\n  keyed:\n    model: openai/sim-fast\n"
        f"    api_base: {sim.url}\n    api_key_env: PY_TEST_SECRETS_KEY\n"
    )
    secrets = workspace.root / ".streamlit" / "secrets.toml"
    secrets.parent.mkdir(exist_ok=True)
    secrets.write_text(f'PY_TEST_SECRETS_KEY = "{KEY}"\n')
    monkeypatch.delenv("PY_TEST_SECRETS_KEY", raising=False)
    monkeypatch.delenv("PROMPTYARD_HOME", raising=False)
    monkeypatch.chdir(tmp_path)  # not the workspace: the run's own secrets still count
    plan = runs.plan_run(
        workspace, [("summarize", None)], ["keyed"], ("summaries", None), slice="head:4"
    )
    run_id = runs.create_run(workspace, plan, concurrency=2, use_cache=False)
    summary = runs.run_sync(workspace, run_id)
    assert summary.status == RunStatus.COMPLETED and summary.ok == 4
    assert sim.calls == 4 and sim.last_authorization == f"Bearer {KEY}"
