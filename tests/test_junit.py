"""JUnit XML from `promptyard eval --junit` that test reporters read: checked against the
Jenkins xUnit plugin's junit-10.xsd (tests/fixtures) and read back with junitparser."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from junitparser import Error, Failure, JUnitXml, Skipped
from sqlmodel import select

from promptyard.models import SimulatorHandle
from promptyard.storage import db
from promptyard.storage.tables import Cell
from tests.cli import run_cli
from tests.test_gate import GUARD, truncate_in_working_tree

SCHEMA = xmlschema.XMLSchema(str(Path(__file__).with_name("fixtures") / "junit-10.xsd"))


def gate_junit(ws: Any, tmp_path: Path, *args: str) -> tuple[int, JUnitXml, Path]:
    out = tmp_path / "reports" / "junit.xml"
    r = run_cli("eval", "guard", "--junit", str(out), *args, home=ws.root)
    assert r.returncode in (0, 1), r.stderr
    SCHEMA.validate(str(out))  # raises, naming the element, when the file is not valid
    return r.returncode, JUnitXml.fromfile(str(out)), out


def latency_s(ws: Any, run_cells: list[Cell]) -> float:
    return sum((c.latency_ms or 0.0) for c in run_cells) / 1000


def current_cells(ws: Any) -> list[Cell]:
    """The cells of the latest run's working-tree variant (the ones the report lists)."""
    with db.session(ws) as s:
        cells = s.exec(select(Cell)).all()
        run_id = max(c.run_id for c in cells)
        mine = [c for c in cells if c.run_id == run_id]
    first = min(c.variant_id for c in mine)
    return [c for c in mine if c.variant_id == first]


def check_totals(xml: JUnitXml) -> None:
    """What the file says equals what its test cases add up to, at every level."""
    totals = {"tests": 0, "failures": 0, "errors": 0, "time": 0.0}
    for suite in xml:
        said = (suite.tests, suite.failures, suite.errors, suite.skipped, suite.time)
        suite.update_statistics()
        assert said == (suite.tests, suite.failures, suite.errors, suite.skipped, suite.time)
        datetime.fromisoformat(suite.timestamp)  # ISO 8601
        for case in suite:
            assert case.time is not None  # reporters show NaN without it
        for key in totals:
            totals[key] += getattr(suite, key)
    assert xml.tests == totals["tests"] and xml.failures == totals["failures"]
    assert xml.errors == totals["errors"]
    assert xml.time == pytest.approx(totals["time"], abs=0.002)


def test_failures_carry_time_type_and_message(
    workspace: Any, sim: SimulatorHandle, tmp_path: Path
) -> None:
    (workspace.evals_dir / "guard.yaml").write_text(GUARD)
    truncate_in_working_tree(workspace)
    code, xml, _ = gate_junit(workspace, tmp_path)
    assert code == 1
    check_totals(xml)
    [suite] = list(xml)
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (7, 7, 0, 0)
    cells = current_cells(workspace)
    assert len(cells) == 6
    assert suite.time == pytest.approx(latency_s(workspace, cells), abs=0.004)
    assert suite.time > 0
    rows = [case for case in suite if case.name.startswith("row ")]
    for case in rows:
        [failure] = case.result
        assert isinstance(failure, Failure)
        assert failure.type == "word-count" and failure.message.startswith("score 0.00: ")
    check = next(case for case in suite if case.name.startswith("pass rate"))
    [verdict] = check.result
    assert verdict.type == "threshold,regression" and "FAIL, REGRESSED" in verdict.message


def test_provider_errors_are_errors_and_unrun_cells_skipped(
    workspace: Any, sim: SimulatorHandle, tmp_path: Path
) -> None:
    (workspace.evals_dir / "guard.yaml").write_text(GUARD)
    sim.faults.bad_request = True  # a 400 is not retried: every call fails at once
    code, xml, _ = gate_junit(workspace, tmp_path)
    assert code == 1
    check_totals(xml)
    [suite] = list(xml)
    assert (suite.errors, suite.skipped) == (6, 0)
    for case in suite:
        if case.name.startswith("row "):
            [error] = case.result
            assert isinstance(error, Error)
            assert error.type and error.message.startswith(f"{error.type}: ")
    sim.faults.bad_request = False

    code, xml, _ = gate_junit(workspace, tmp_path, "--max-cost", "0.0000001")
    check_totals(xml)
    [suite] = list(xml)
    skipped = [c for c in suite if any(isinstance(r, Skipped) for r in c.result)]
    assert skipped and suite.skipped == len(skipped)
    assert all(c.time == 0 for c in skipped)
    assert all(r.message.startswith("not run: ") for c in skipped for r in c.result)


def test_a_passing_suite_is_valid_and_says_so(
    workspace: Any, sim: SimulatorHandle, tmp_path: Path
) -> None:
    (workspace.evals_dir / "guard.yaml").write_text(GUARD)
    code, xml, path = gate_junit(workspace, tmp_path)
    assert code == 0
    check_totals(xml)
    [suite] = list(xml)
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (7, 0, 0, 0)
    assert all(case.is_passed for case in suite)
    assert xml.name == "promptyard eval guard"
    text = path.read_text()
    assert 'name="baseline"' in text and 'name="current"' in text  # properties
