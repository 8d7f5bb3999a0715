"""Starting the CLI or the UI imports no litellm: it costs seconds and only calls need it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from promptyard.workspace import Workspace

ROOT = Path(__file__).resolve().parent.parent

CLI = """
import importlib, pkgutil, sys
import promptyard
from typer.testing import CliRunner
from promptyard.cli import app

for info in pkgutil.walk_packages(promptyard.__path__, "promptyard."):
    if not info.name.endswith("__main__"):  # runs the CLI
        importlib.import_module(info.name)
for args in (["--help"], ["run", "--help"], ["eval", "--help"], ["simulate", "--help"]):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, (args, result.output)
print("litellm" in sys.modules)
"""

UI = """
import sys
from pathlib import Path
from streamlit.testing.v1 import AppTest

app = Path("app")
sys.path.insert(0, str(app))
for page in sorted(p.name for p in (app / "views").glob("*.py")):
    at = AppTest.from_file(str(app / "main.py"), default_timeout=90).run()
    at = at.switch_page(f"views/{page}").run()
    assert not at.exception, (page, [e.value for e in at.exception])
print("litellm" in sys.modules)
"""


def _run(code: str, workspace: Workspace) -> str:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "PROMPTYARD_HOME": str(workspace.root),
    }
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    return out.stdout.strip().splitlines()[-1]


def test_the_cli_and_every_library_module_start_without_litellm(workspace: Workspace) -> None:
    assert _run(CLI, workspace) == "False"


def test_every_page_of_the_ui_opens_without_litellm(workspace: Workspace) -> None:
    assert _run(UI, workspace) == "False"
