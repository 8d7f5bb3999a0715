"""`promptyard eval / score / calibrate / suites / evaluators`, run as CI runs them."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from promptyard.models import SimulatorHandle
from tests.cli import run_cli
from tests.test_gate import GUARD, truncate_in_working_tree


def cli(ws: Any, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, home=ws.root)


def test_eval_passes_and_writes_reports(
    workspace: Any, sim: SimulatorHandle, tmp_path: Path
) -> None:
    junit, md = tmp_path / "out" / "junit.xml", tmp_path / "out" / "summary.md"
    r = cli(
        workspace,
        "eval",
        "summarize",
        "--allow-code",
        "--junit",
        str(junit),
        "--markdown",
        str(md),
    )
    assert r.returncode == 0, r.stderr
    assert "summarize  sim-fast" in r.stdout and "PASS" in r.stdout
    assert "suite summarize: PASSED" in r.stdout
    assert "ran custom Python evaluators" in r.stderr and "keeps_numbers.py" in r.stderr
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites" and root.find("testsuite") is not None
    assert md.read_text().startswith("## ✅ Promptyard eval `summarize`: passed")


def test_eval_regression_exits_1_with_json(workspace: Any, sim: SimulatorHandle) -> None:
    (workspace.evals_dir / "guard.yaml").write_text(GUARD)
    truncate_in_working_tree(workspace)
    r = cli(workspace, "eval", "guard", "--json")
    assert r.returncode == 1, r.stderr
    out = json.loads(r.stdout)
    assert out["passed"] is False and out["exit_code"] == 1
    [c] = out["comparisons"]
    assert (
        c["current"]["source"] == "working tree (uncommitted)" and c["current"]["version"] is None
    )
    assert c["verdict"] == "FAIL, REGRESSED" and c["delta"] < 0 and c["newly_failing_rows"]

    # the same run can be scored again on demand, by id
    r = cli(workspace, "score", str(out["run_id"]), "--suite", "guard", "--json")
    assert r.returncode == 0, r.stderr
    scored = json.loads(r.stdout)
    assert scored["run_id"] == out["run_id"] and len(scored["variants"]) == 2


@pytest.mark.parametrize(
    ("args", "suite_text", "message"),
    [
        (["eval", "nope"], None, "error: no suite named 'nope'"),
        (
            ["eval", "broken"],
            "prompts: [summarize]\ndataset: summaries\nassert:\n  - type: regex\n    value: '(['\n",
            "error: evals/broken.yaml line 5: invalid regex",
        ),
        (
            ["eval", "broken"],
            "prompts: [summarize]\ndataset: summaries\nassert:\n  - type: levenstein\n",
            "error: evals/broken.yaml line 4: unknown assertion type 'levenstein'",
        ),
        (["eval", "summarize", "--allow-code", "--baseline", "v42"], None, "has no version v42"),
        (["eval", "summarize", "--max-cost", "0"], None, "--max-cost must be more than 0"),
        (["eval", "summarize", "--max-cost", "lots"], None, "--max-cost"),
        (["score", "999", "--suite", "summarize"], None, "no run 999"),
    ],
)
def test_usage_and_configuration_errors_exit_2(
    workspace: Any, sim: SimulatorHandle, args: list[str], suite_text: str | None, message: str
) -> None:
    if suite_text:
        (workspace.evals_dir / "broken.yaml").write_text(suite_text)
    r = cli(workspace, *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert message in r.stderr
    assert sim.calls == 0


def test_listing_commands(workspace: Any) -> None:
    (workspace.evals_dir / "broken.yaml").write_text("prompts: [summarize]\nassert: []\n")
    r = cli(workspace, "suites", "--json")
    assert r.returncode == 0, r.stderr
    found = {s["name"]: s for s in json.loads(r.stdout)}
    assert (
        found["support_reply"]["ok"] and found["summarize"]["ok"] and found["extract_invoice"]["ok"]
    )
    assert not found["broken"]["ok"] and "evals/broken.yaml line 2" in found["broken"]["error"]
    r = cli(workspace, "evaluators")
    assert r.returncode == 0 and "llm-rubric" in r.stdout and "runs that code" in r.stdout
    r = cli(workspace, "calibrate")
    assert r.returncode == 0 and "No cell has both" in r.stdout


def test_eval_json_is_one_object_with_a_case_per_row_and_variant(
    workspace: Any, sim: SimulatorHandle
) -> None:
    (workspace.evals_dir / "guard.yaml").write_text(GUARD)
    truncate_in_working_tree(workspace)
    r = cli(workspace, "eval", "guard", "--json")
    assert r.returncode == 1, r.stderr
    out = json.loads(r.stdout)  # the whole of stdout is one JSON object
    assert out["schema_version"] == 1 and out["passed"] is False and out["suite"] == "guard"
    cases = out["cases"]
    assert len(cases) == 12  # 6 rows x (working tree, baseline)
    by_side: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        by_side.setdefault(case["variant"]["side"], []).append(case)
        assert set(case) >= {"row_id", "variant", "passed", "score", "assertions", "status"}
        assert set(case["variant"]) >= {"prompt", "version", "model"}
        [a] = case["assertions"]
        assert set(a) >= {"type", "passed", "score", "reason"} and a["type"] == "word-count"
        assert a["passed"] is case["passed"] and isinstance(a["reason"], str)
    current, baseline = by_side["current"], by_side["baseline"]
    assert [c["row_id"] for c in current] == [f"s-00{i}" for i in range(1, 7)]
    assert {c["row_id"] for c in baseline} == {c["row_id"] for c in current}
    assert all(c["variant"]["version"] is None for c in current)  # uncommitted edit
    assert all(c["variant"]["version"] == 2 for c in baseline)  # v2, the last commit
    assert all(c["variant"]["prompt"] == "summarize" for c in cases)
    assert all(c["variant"]["model"] == "sim-fast" for c in cases)
    assert not any(c["passed"] for c in current) and all(c["passed"] for c in baseline)
    assert all(c["score"] == 0.0 for c in current) and all(c["score"] == 1.0 for c in baseline)
    summary = out["summary"]
    assert (summary["cases"], summary["passed"], summary["failed"]) == (12, 6, 6)
    assert (summary["errors"], summary["skipped"]) == (0, 0)
    assert summary["latency_ms_total"] > 0
    assert out["trust"]["source"].startswith("HEAD ") and out["trust"]["custom_code"] == []
