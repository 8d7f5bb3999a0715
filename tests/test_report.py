"""`promptyard report`: Markdown and offline HTML reports of runs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from promptyard.errors import NotFoundError, PromptyardError
from promptyard.reading import build_report
from tests.cli import run_cli
from tests.dashboard_seed import seed_small

ROOT = Path(__file__).resolve().parent.parent


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli("report", *args, home=cwd, timeout=120)


def test_markdown_report_has_the_leaderboard_with_latency_and_cost(empty_workspace) -> None:  # type: ignore[no-untyped-def]
    s = seed_small(empty_workspace)
    md = build_report(empty_workspace, [s.run1], fmt="md", scheme="quality")
    lines = md.splitlines()
    header = next(line for line in lines if line.startswith("| variant"))
    for column in ("p50 ms", "p95 ms", "$ per call", "$ per 1k calls", "$ at 1M/month"):
        assert column in header
    row = next(line for line in lines if line.startswith("| summarize v2 · sim-fast"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    columns = [c.strip() for c in header.strip("|").split("|")]
    values = dict(zip(columns, cells, strict=True))
    # run 1 only: v2 · sim-fast is 10..200 ms, $0.002 a call
    assert values["p50 ms"] == "100" and values["p95 ms"] == "190"
    assert values["$ per call"] == "$0.002" and values["$ at 1M/month"] == "$2,000"
    assert values["mean human score"] == "0.69 [0.59, 0.78]"
    assert "--format html" in md  # says where the charts are


def test_html_report_embeds_plotly_once_and_draws_charts(empty_workspace) -> None:  # type: ignore[no-untyped-def]
    s = seed_small(empty_workspace)
    page = build_report(empty_workspace, [s.run1, s.run2], fmt="html")
    assert not re.findall(r"<script[^>]*\bsrc=", page)  # works offline
    assert page.count("Plotly.newPlot") >= 5
    assert len(re.findall(r"/\*\*\s*\n?\s*\* plotly\.js v", page)) <= 1 and "plotly.js v" in page
    assert "<th>p95 ms</th>" in page and "summarize v2 · sim-fast" in page
    assert "At 1M calls a month" in page


def test_names_are_escaped_in_html(empty_workspace) -> None:  # type: ignore[no-untyped-def]
    from promptyard.storage import db
    from promptyard.storage.tables import Cell, Run, Variant

    def fill(session):  # type: ignore[no-untyped-def]
        run = Run(name="<script>alert(1)</script>", status="completed")
        session.add(run)
        session.flush()
        v = Variant(run_id=run.id, prompt_name="p", prompt_version=1, model="<b>evil</b>")
        session.add(v)
        session.flush()
        session.add(Cell(run_id=run.id, variant_id=v.id, row_id="r0", status="ok",
                         latency_ms=5.0, cost_usd=0.1))  # fmt: skip
        return run.id

    run_id = db.write(empty_workspace, fill)
    page = build_report(empty_workspace, [run_id], fmt="html")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>evil</b>" not in page.split("<h2>Charts</h2>")[0]


def test_unknown_run_and_bad_format_are_refused(empty_workspace) -> None:  # type: ignore[no-untyped-def]
    seed_small(empty_workspace)
    with pytest.raises(NotFoundError, match="run 99 does not exist"):
        build_report(empty_workspace, [1, 99])
    with pytest.raises(PromptyardError, match="pdf"):
        build_report(empty_workspace, [1], fmt="pdf")


def test_cli_writes_stdout_or_a_file(empty_workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    s = seed_small(empty_workspace)
    shown = _cli(str(s.run1), cwd=empty_workspace.root)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("# Promptyard report: run 1")
    out = tmp_path / "report.html"
    written = _cli(str(s.run1), str(s.run2), "--format", "html", "--out", str(out),
                   cwd=empty_workspace.root)  # fmt: skip
    assert written.returncode == 0, written.stderr
    assert written.stdout == "" and out.read_text().startswith("<!doctype html>")
    missing = _cli("42", cwd=empty_workspace.root)
    assert missing.returncode == 1
    assert missing.stderr.strip() == "error: run 42 does not exist (see `promptyard run list`)"
