"""`promptyard traces list|show|to-dataset` over spans stored through the tables."""

from __future__ import annotations

import json
import subprocess

from promptyard import datasets
from promptyard.runs import plan_run
from promptyard.workspace import Workspace
from tests.cli import run_cli, run_cli_process
from tests.traces_seed import add, feedback, llm_span, root_span, trace_id


def cli(ws: Workspace, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run_cli("traces", *args, home=ws.root, check=check)


def test_list_shows_every_field_and_unknown_cost(workspace: Workspace) -> None:
    add(
        workspace,
        llm_span(1, user_id="alice", session_id="s-1"),
        llm_span(2, cost_usd=None, prompt_version=2, user_id="bob"),
        root_span(2),
    )
    out = cli(workspace, "list").stdout
    lines = out.splitlines()
    assert lines[0].split("  ")[0] == "started (UTC)"
    assert "response model" in lines[0] and "session" in lines[0]
    newest = lines[1]
    assert trace_id(2) in newest and "summarize v2" in newest and "unknown" in newest
    assert "gpt-4o-mini-2024-07-18" in newest and "120 ms" in newest and "bob" in newest
    older = lines[2]
    assert "$0.000100" in older and "alice" in older and "s-1" in older
    assert len(lines) == 3  # the root span is not an LLM call

    listed = json.loads(cli(workspace, "list", "--json", "--user", "alice").stdout)
    [span] = listed["spans"]
    assert span["trace_id"] == trace_id(1) and span["span_id"] == llm_span(1).span_id
    assert (span["prompt_name"], span["prompt_version"]) == ("summarize", 1)
    assert (span["request_model"], span["response_model"]) == (
        "gpt-4o-mini",
        "gpt-4o-mini-2024-07-18",
    )
    assert (span["input_tokens"], span["output_tokens"], span["latency_ms"]) == (20, 5, 120.0)
    assert span["status"] == "ok" and listed["next_cursor"] is None
    unknown = json.loads(cli(workspace, "list", "--json", "--prompt", "summarize@v2").stdout)
    assert [s["cost_usd"] for s in unknown["spans"]] == [None]
    roots = json.loads(cli(workspace, "list", "--json", "--scope", "roots").stdout)
    assert "POST /ask" in [s["name"] for s in roots["spans"]]


def test_list_pages_with_the_cursor(workspace: Workspace) -> None:
    add(workspace, *[llm_span(n) for n in range(1, 6)])
    first = json.loads(cli(workspace, "list", "--json", "-n", "3").stdout)
    assert [s["trace_id"] for s in first["spans"]] == [trace_id(n) for n in (5, 4, 3)]
    rest = json.loads(cli(workspace, "list", "--json", "--cursor", first["next_cursor"]).stdout)
    assert [s["trace_id"] for s in rest["spans"]] == [trace_id(2), trace_id(1)]
    text = cli(workspace, "list", "-n", "3").stdout
    assert f"next page: --cursor {first['next_cursor']}" in text


def test_empty_store_says_how_to_send_traces(workspace: Workspace) -> None:
    out = cli(workspace, "list").stdout
    assert "promptyard collect" in out and "4318" in out


def test_show_prints_the_tree_the_messages_and_feedback(workspace: Workspace) -> None:
    root = root_span(4)
    add(
        workspace,
        root,
        llm_span(4, 1, parent_span_id=root.span_id, output="Ship a new leg.\x1b[31m", ttft_ms=33.0),
    )
    add(workspace, feedback(4, 0.0, comment="wrong part"))
    out = cli(workspace, "show", trace_id(4)).stdout
    assert out.startswith(f"trace {trace_id(4)}")
    tree = [line for line in out.splitlines() if "|" in line]
    assert tree[0].startswith("POST /ask") and tree[1].startswith("  chat gpt-4o-mini")
    assert "[user] ticket 4: the desk arrived broken" in out
    assert "[assistant] Ship a new leg.\ufffd[31m" in out  # no escape code reaches the terminal
    assert "time to first token: 33 ms" in out
    assert "prompt: summarize v1 (label production), in this workspace" in out
    assert "thumbs = 0 (end_user): wrong part" in out
    shown = json.loads(cli(workspace, "show", trace_id(4), "--json").stdout)
    assert [s["depth"] for s in shown["spans"]] == [0, 1]
    assert shown["feedback"][0]["comment"] == "wrong part"


def test_bad_input_is_one_line(workspace: Workspace) -> None:
    bad = cli(workspace, "show", "nothex", check=False)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1
    assert "not 32 hexadecimal digits" in bad.stderr
    missing = cli(workspace, "show", trace_id(9), check=False)
    assert missing.returncode == 1 and "no trace" in missing.stderr
    when = cli(workspace, "list", "--since", "yesterday", check=False)
    assert when.returncode == 1 and "--since 'yesterday'" in when.stderr
    scope = cli(workspace, "list", "--scope", "every", check=False)
    assert scope.returncode == 1 and "--scope 'every'" in scope.stderr


def test_to_dataset_by_filter_then_run_plans_over_it(workspace: Workspace) -> None:
    add(workspace, *[llm_span(n, user_id="dora" if n < 4 else "eve") for n in range(1, 7)])
    out = cli(
        workspace, "to-dataset", "--name", "from_prod", "--user", "dora", "--reference-from-output"
    ).stdout
    assert out.strip() == "Added 3 traces to from_prod v1 (new dataset)"
    ds = datasets.load_dataset(workspace, "from_prod")
    assert len(ds) == 3 and ds.reference == "reference"
    again = json.loads(cli(workspace, "to-dataset", "--name", "from_prod", "--json").stdout)
    assert (again["added"], again["already_present"], again["created"]) == (3, 3, False)
    plan = plan_run(workspace, [("summarize", None)], ["sim-fast"], ("from_prod", None))
    assert len(plan.cells) == 6


def test_the_console_command_lists_traces(workspace: Workspace) -> None:
    add(workspace, llm_span(1))
    out = run_cli_process("traces", "list", "--json", home=workspace.root, check=True).stdout
    assert json.loads(out)["spans"][0]["trace_id"] == trace_id(1)
