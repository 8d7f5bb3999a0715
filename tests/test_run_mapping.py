"""Plans that fit the data: map a column to a variable, set a constant, use the prompt's
example; the mapping is shown and stored with the run."""

from __future__ import annotations

import json
from typing import Any

import pytest

from promptyard import runs
from promptyard.models import SimulatorHandle
from promptyard.runs import MappingError, Source, VariableMapping, fillings, parse_pairs
from promptyard.storage import db
from promptyard.storage.tables import Run
from promptyard.workspace import Workspace
from tests.cli import run_cli

SUPPORT = [("support_reply", None)]
SUMMARIES = ("summaries", None)  # columns: id, kind, text, expected


def _user(plan: runs.RunPlan, n: int = 0) -> str:
    return str(json.loads(plan.cells[n].messages_json)[-1]["content"])


def test_without_a_mapping_support_reply_does_not_fit_summaries(workspace: Workspace) -> None:
    with pytest.raises(runs.MissingColumnsError, match="'customer_name'"):
        runs.plan_run(workspace, SUPPORT, ["sim-fast"], SUMMARIES, slice="head:2")


def test_a_mapped_column_a_constant_and_a_sample_fill_the_plan(workspace: Workspace) -> None:
    mapping = VariableMapping(
        columns={"message": "text"}, constants={"product": "Nimbus Desk"}, samples=True
    )
    plan = runs.plan_run(
        workspace, SUPPORT, ["sim-fast"], SUMMARIES, slice="head:2", mapping=mapping
    )
    assert plan.calls == 2
    inputs = json.loads(plan.cells[0].inputs_json)
    assert inputs["message"] == inputs["text"]  # the row's own text
    assert inputs["product"] == "Nimbus Desk"
    assert inputs["customer_name"] == "Dana"  # the prompt's example
    rendered = json.dumps(json.loads(plan.cells[0].messages_json))
    assert "Nimbus Desk" in rendered and "Dana" in rendered
    assert plan.mapping == mapping.to_dict()
    run_id = runs.create_run(workspace, plan)
    with db.session(workspace) as s:
        stored = s.get(Run, run_id)
        assert stored is not None and stored.mapping_json is not None
        assert VariableMapping.from_dict(json.loads(stored.mapping_json)) == mapping


def test_fillings_say_where_each_variable_comes_from(workspace: Workspace) -> None:
    from promptyard import prompts

    template = prompts.get_prompt("support_reply", workspace=workspace)
    mapping = VariableMapping(columns={"message": "text"}, constants={"product": "Desk"})
    filled = {f.variable: f for f in fillings(mapping, [template], ["id", "text", "kind"])}
    assert filled["message"].source is Source.MAPPED
    assert filled["product"].describe() == "product = 'Desk' (constant)"
    assert filled["customer_name"].source is Source.MISSING
    assert "sample" in filled["customer_name"].detail  # the prompt has one to offer
    with_samples = VariableMapping(mapping.columns, mapping.constants, samples=True)
    again = {f.variable: f.describe() for f in fillings(with_samples, [template], ["text"])}
    assert again["customer_name"] == "customer_name = 'Dana' (sample)"


def test_bad_mappings_are_one_line_and_change_nothing(workspace: Workspace) -> None:
    with pytest.raises(MappingError, match="no such column"):
        runs.plan_run(
            workspace, SUPPORT, ["sim-fast"], SUMMARIES,
            mapping=VariableMapping(columns={"message": "body"}),
        )  # fmt: skip
    with pytest.raises(MappingError, match="VARIABLE=VALUE"):
        parse_pairs(["product"], "--set")
    with pytest.raises(MappingError, match="pick one"):
        VariableMapping(columns={"product": "text"}, constants={"product": "x"})


def test_the_cli_maps_sets_and_falls_back_to_samples(
    workspace: Workspace, sim: SimulatorHandle
) -> None:
    refused = run_cli("run", "-p", "support_reply", "-m", "sim-fast", "-d", "summaries")
    assert refused.returncode == 1
    assert "--map VAR=COLUMN" in refused.stderr and "--set VAR=VALUE" in refused.stderr
    done = run_cli(
        "run", "-p", "support_reply", "-m", "sim-fast", "-d", "summaries", "--limit", "3",
        "--map", "message=text", "--set", "product=Nimbus Desk", "--samples", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "message ← column text" in done.stderr and "product = 'Nimbus Desk'" in done.stderr
    run_id = json.loads(done.stdout)["run_id"]
    with db.session(workspace) as s:
        stored: Any = s.get(Run, run_id)
    assert json.loads(stored.mapping_json)["constants"] == {"product": "Nimbus Desk"}
    bad = run_cli("run", "-p", "support_reply", "-d", "summaries", "--map", "message")
    assert bad.returncode == 1 and "--map 'message': write it as VARIABLE=VALUE" in bad.stderr
    assert sim.calls == 3
