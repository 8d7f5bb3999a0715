"""`promptyard ratings export|schemes|agreement|pairwise`, run as a user runs them."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

from promptyard import ratings
from tests.cli import run_cli
from tests.ratings_seed import seed_run

ROOT = Path(__file__).resolve().parent.parent


def _cli(ws, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return run_cli(*args, home=ws.root, timeout=120)


def test_ratings_export_csv_jsonl_and_history(workspace, tmp_path) -> None:
    seeded = seed_run(workspace, rows=2)
    ratings.rate_cell(workspace, seeded.cell_id(0), "quality", 2, "ann")
    ratings.rate_cell(workspace, seeded.cell_id(0), "quality", 4, "ann")
    ratings.rate_cell(workspace, seeded.cell_id(1, 1), "thumbs", True, "bob")

    out = _cli(workspace, "ratings", "export", str(seeded.run_id))
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [(r["rater"], r["scheme"], r["value"]) for r in rows] == [
        ("ann", "quality", "4"),
        ("bob", "thumbs", "true"),
    ]
    assert rows[0]["scheme_version"] and rows[0]["created_at"]

    target = tmp_path / "all.jsonl"
    out = _cli(
        workspace,
        "ratings",
        "export",
        str(seeded.run_id),
        "--format",
        "jsonl",
        "--history",
        "-o",
        str(target),
    )
    assert out.returncode == 0, out.stderr
    values = [json.loads(line)["value"] for line in target.read_text().splitlines()]
    assert values == [2, 4, True]


def test_ratings_export_bad_input_is_one_line_on_stderr(workspace) -> None:
    out = _cli(workspace, "ratings", "export", "999")
    assert out.returncode == 1
    assert out.stderr.strip() == "error: run 999 does not exist"
    seeded = seed_run(workspace, rows=1)
    out = _cli(workspace, "ratings", "export", str(seeded.run_id), "--format", "xml")
    assert out.returncode == 1 and "unknown export format 'xml'" in out.stderr


def test_ratings_schemes_agreement_and_pairwise(workspace) -> None:
    seeded = seed_run(workspace, rows=2)
    out = _cli(workspace, "ratings", "schemes")
    assert out.returncode == 0 and "quality" in out.stdout and "numeric 1 to 5" in out.stdout
    for rater, value in (("ann", 5), ("bob", 1)):
        ratings.rate_cell(workspace, seeded.cell_id(0), "quality", value, rater)
    out = _cli(workspace, "ratings", "agreement", str(seeded.run_id), "--json")
    report = json.loads(out.stdout)
    assert report[0]["scheme"] == "quality" and report[0]["disputed"][0]["dispute"] == 1.0
    # one shared cell: agreement is undefined, shown as a dash with the reason
    assert report[0]["cohen_kappa"] is None and report[0]["reasons"]["cohen_kappa"]
    out = _cli(workspace, "ratings", "agreement", str(seeded.run_id))
    line, why = out.stdout.splitlines()[:2]
    assert "Cohen kappa=— ordinal alpha=—" in line
    assert why.strip() == "— " + report[0]["reasons"]["cohen_kappa"]
    for pair in ratings.make_pairs(workspace, seeded.run_id):
        ratings.record_vote(workspace, pair, "a", "ann")
    out = _cli(workspace, "ratings", "pairwise", str(seeded.run_id))
    assert out.returncode == 0 and "summarize v1 · sim-fast" in out.stdout.splitlines()[0]
