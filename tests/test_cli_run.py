"""`promptyard run`, `run --resume`, `runs list` and `results`, as a user types them."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from promptyard.cli import app
from promptyard.models import SimulatorHandle

ROOT = Path(__file__).resolve().parent.parent


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_run_json_summary_then_cache(workspace: Any, sim: SimulatorHandle) -> None:
    result = _cli(
        "run", "--prompt", "summarize", "--prompt", "summarize@v1", "--model", "sim-fast",
        "--model", "sim-smart", "--dataset", "summaries", "--limit", "3", "--repeats", "2",
        "--concurrency", "4", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["cells"] == 2 * 2 * 3 * 2 and out["ok"] == 24 and out["errors"] == 0
    assert out["cost_usd"] > 0 and out["wall_s"] > 0 and isinstance(out["run_id"], int)
    assert sim.calls == 24

    sim.reset_counts()
    again = json.loads(
        _cli("run", "-p", "summarize", "-p", "summarize@v1", "-m", "sim-fast", "-m", "sim-smart",
             "-d", "summaries", "--limit", "3", "--repeats", "2", "--json").stdout
    )  # fmt: skip
    assert sim.calls == 0 and again["cached"] == 24 and again["cost_usd"] == 0
    nocache = json.loads(
        _cli("run", "-p", "summarize", "-m", "sim-fast", "-d", "summaries", "--limit", "3",
             "--no-cache", "--json").stdout
    )  # fmt: skip
    assert sim.calls == 3 and nocache["cached"] == 0


def test_missing_variables_are_all_reported_and_nothing_runs(
    workspace: Any, sim: SimulatorHandle
) -> None:
    result = CliRunner().invoke(
        app, ["run", "--prompt", "support_reply", "--model", "sim-fast", "--dataset", "summaries"]
    )
    assert result.exit_code == 1
    assert "'customer_name'" in result.stderr and "'product'" in result.stderr
    assert "22 row(s)" in result.stderr
    assert sim.calls == 0
    listed = json.loads(_cli("runs", "list", "--json").stdout)
    assert listed == []


def test_resume_summary_counts_the_whole_run(workspace: Any, sim: SimulatorHandle) -> None:
    sim.faults.server_error = 500
    first = json.loads(
        _cli(
            "run", "-p", "summarize", "-m", "sim-fast", "-d", "summaries", "--limit", "4", "--json"
        ).stdout
    )
    assert first["errors"] == 4 and first["ok"] == 0
    sim.faults.server_error = None
    sim.reset_counts()
    resumed = json.loads(_cli("run", "--resume", str(first["run_id"]), "--json").stdout)
    assert resumed["run_id"] == first["run_id"]
    assert (resumed["cells"], resumed["ok"], resumed["errors"]) == (4, 4, 0)
    assert sim.calls == 4


def test_runs_list_and_results_formats(workspace: Any, sim: SimulatorHandle) -> None:
    run = json.loads(
        _cli(
            "run", "-p", "summarize", "-m", "sim-fast", "-d", "summaries", "--limit", "2", "--json"
        ).stdout
    )
    listed = json.loads(_cli("runs", "list", "--json").stdout)
    assert [(r["id"], r["status"]) for r in listed] == [(run["run_id"], "completed")]
    assert "created_at" in listed[0]
    text = _cli("runs", "list").stdout
    assert "completed" in text and "summarize v2 · sim-fast" in text

    lines = _cli("results", str(run["run_id"])).stdout.splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["row_id"] for r in rows] == ["s-001", "s-002"]
    assert all(r["status"] == "ok" and r["output"] for r in rows)

    table = list(
        csv.DictReader(io.StringIO(_cli("results", str(run["run_id"]), "--format", "csv").stdout))
    )
    assert [r["row_id"] for r in table] == ["s-001", "s-002"]
    assert table[0]["model"] == "sim-fast" and float(table[0]["cost_usd"]) > 0

    bad = CliRunner().invoke(app, ["results", "999"])
    assert bad.exit_code == 1 and "run 999 does not exist" in bad.stderr


def test_budget_flag_stops_the_run(workspace: Any, sim: SimulatorHandle) -> None:
    out = json.loads(
        _cli("run", "-p", "summarize", "-m", "sim-smart", "-d", "summaries", "--max-cost", "0.0008",
             "--concurrency", "2", "--json").stdout
    )  # fmt: skip
    assert out["cost_usd"] <= 0.0008
    assert out["ok"] < out["cells"] and "budget" in out["message"]


def test_console_command_runs_in_a_real_process(workspace: Any, sim: SimulatorHandle) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.run(
        [sys.executable, "-m", "promptyard", "run", "--prompt", "summarize", "--model", "sim-fast",
         "--dataset", "summaries", "--limit", "2", "--json"],
        cwd=workspace.root, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["ok"] == 2 and sim.calls == 2
    assert proc.stderr == ""  # no progress bar when stderr is not a terminal
