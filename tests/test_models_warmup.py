"""The model layer warms up in the background: the first call on a fresh server is fast."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from promptyard.workspace import Workspace

ROOT = Path(__file__).resolve().parent.parent

CODE = """
import sys
from promptyard.models import shared_simulator, start_warm_up
from promptyard.workspace import current_workspace
thread = start_warm_up(current_workspace())
assert start_warm_up() is thread  # once per process
thread.join(120)
handle = shared_simulator()
print("openai" in sys.modules, "litellm" in sys.modules, handle is not None and handle.calls)
"""


def test_warm_up_loads_the_call_path_without_litellm(workspace: Workspace) -> None:
    # A fresh process, as a freshly started server is: the SDK is loaded, the in-process
    # simulator is up and has answered one streamed call; litellm stays out (no keys).
    env = {
        k: v
        for k, v in __import__("os").environ.items()
        if k not in ("PROMPTYARD_SIMULATOR_URL",) and not k.endswith("_API_KEY")
    }
    env.update(PYTHONPATH=str(ROOT / "src"), PROMPTYARD_HOME=str(workspace.root))
    out = subprocess.run(
        [sys.executable, "-c", CODE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["True", "False", "1"]


def test_warm_up_reports_instead_of_raising(workspace: Workspace) -> None:
    from promptyard.models import warm_up

    (workspace.root / "models.yaml").write_text("models: [not, a, mapping]\n")
    report = warm_up(workspace)
    assert set(report.steps) == {"prices", "tokenizer", "openai sdk", "first call", "litellm"}
    assert report.errors == []
