"""`promptyard run` sends its first call before importing anything slow: no litellm, no
`openai` SDK, no pandas, numpy, plotly or streamlit is loaded when the first connection
to an OpenAI-compatible endpoint is made, nor what only some runs or other commands need
(the guardrails engine with jsonschema and the PII detectors, the playground, the run
queue, `promptyard ui`'s server, the other commands' modules), nor, for a fresh run without
the response cache, even the storage layer; and it ends without pandas (the dashboard's
summaries are stored in plain SQL). The time it takes is in benchmarks/bench_start.py."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from promptyard.workspace import Workspace
from tests.fixed_server import fixed_latency_server

ROOT = Path(__file__).resolve().parent.parent
SLOW = ("litellm", "openai", "pandas", "numpy", "plotly", "streamlit", "tiktoken")
# Loaded only when a run names a guardrail policy, or by other commands than `run`.
NOT_NEEDED = (
    "jsonschema",
    "phonenumbers",
    "promptyard.guardrails.engine",
    "promptyard.runs.playground",
    "promptyard.runs.queue",
    "promptyard.cli.ui_serve",
    "promptyard.cli.ui_proxy",
    "promptyard.cli.eval_cmds",  # only the module registering `run` is built (cli.COMMANDS)
    "promptyard.cli.traces_cmds",
    "git",  # gitpython: the prompt's and dataset's versions are read with plain git
)
SLOW_AT_EXIT = ("litellm", "openai", "pandas", "plotly", "streamlit")
# A fresh run without the response cache sends its first calls before it is stored
# (runs.head_start): not even the storage layer is loaded then.
STORAGE = ("sqlalchemy", "sqlmodel", "promptyard.storage.db")
# Nor the workers' HTTP client (the head sends on asyncio's streams: http_streams), nor
# pydantic (typer 0.29 would load it to coerce options: pyproject keeps typer below it).
LATER = ("aiohttp", "pydantic")

# The console script's `main`, with an audit hook noting what is loaded at the first
# connection to the model's server, and an exit hook noting what is loaded at the end.
PROBE = """
import atexit, sys
port, slow, at_exit, seen = int(sys.argv[1]), sys.argv[2].split(","), sys.argv[3].split(","), []
def hook(event, args):
    if event == "socket.connect" and not seen and isinstance(args[1], tuple):
        if len(args[1]) >= 2 and args[1][1] == port:
            seen.append(",".join(m for m in slow if m in sys.modules) or "-")
            print("LOADED-AT-FIRST-CALL", seen[0], file=sys.stderr, flush=True)
def end():
    print("LOADED-AT-EXIT", ",".join(m for m in at_exit if m in sys.modules) or "-",
          file=sys.stderr, flush=True)
sys.addaudithook(hook)
atexit.register(end)
from promptyard.cli import main
sys.argv = ["promptyard", *sys.argv[4:]]
main()
"""


@pytest.fixture
def server_url() -> Iterator[str]:
    with fixed_latency_server(1) as url:
        yield url


def test_the_first_call_leaves_before_anything_slow_is_imported(
    workspace: Workspace, server_url: str
) -> None:
    (workspace.root / "models.yaml").write_text(
        f"models:\n  local:\n    model: openai/local\n    api_base: {server_url}\n"
    )
    port = server_url.rsplit(":", 1)[1].split("/")[0]
    run = ["run", "-p", "summarize", "-m", "local", "-d", "summaries", "--limit", "2"]
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            port,
            ",".join(SLOW + NOT_NEEDED + STORAGE + LATER),
            ",".join(SLOW_AT_EXIT),
            *run,
            "--no-cache",
        ],
        cwd=workspace.root,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), "PROMPTYARD_HOME": str(workspace.root)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    assert "2/2 ok" in out.stdout, out.stdout
    marks = [line for line in out.stderr.splitlines() if line.startswith("LOADED-AT-")]
    assert marks == ["LOADED-AT-FIRST-CALL -", "LOADED-AT-EXIT -"], marks
