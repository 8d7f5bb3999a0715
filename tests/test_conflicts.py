"""A prompt file that git left conflicted is refused everywhere it would be used."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from promptyard import prompts, runs
from promptyard.models import SimulatorHandle
from promptyard.prompts import MergeConflictError, conflict_lines, parse_prompt
from tests.cli import run_cli

PATH = "prompts/summarize.prompty"


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=check)


def conflicting_merge(root: Path, style: str = "merge") -> list[int]:
    """Merge a branch that rewrote summarize's system line into main, which did too.

    Leaves the merge unfinished, as git does; returns the marker lines in the file.
    """
    git(root, "config", "merge.conflictStyle", style)
    path = root / PATH
    original = path.read_text()
    assert "You are a precise editor." in original
    main = git(root, "rev-parse", "--abbrev-ref", "HEAD").stdout.strip()
    git(root, "checkout", "-q", "-b", "friendly")
    path.write_text(original.replace("You are a precise editor.", "You are a friendly editor."))
    git(root, "commit", "-q", "-am", "friendlier")
    git(root, "checkout", "-q", main)
    path.write_text(original.replace("You are a precise editor.", "You are a terse editor."))
    git(root, "commit", "-q", "-am", "terser")
    merge = git(root, "merge", "friendly", check=False)
    assert merge.returncode != 0 and "CONFLICT" in merge.stdout
    lines = path.read_text().split("\n")
    return [
        i
        for i, line in enumerate(lines, 1)
        if line[:7] in ("<<<<<<<", "=======", ">>>>>>>", "|||||||")
    ]


def test_get_prompt_and_render_refuse_a_conflicted_file(workspace: Any) -> None:
    markers = conflicting_merge(workspace.root)
    assert len(markers) == 3
    with pytest.raises(MergeConflictError) as info:
        prompts.get_prompt("summarize", workspace=workspace)
    assert info.value.lines == markers
    message = str(info.value)
    assert message.startswith(f"{PATH} line {markers[0]}: unresolved merge conflict")
    assert f"lines {', '.join(map(str, markers))}" in message
    with pytest.raises(MergeConflictError):
        prompts.render_prompt("summarize", {"text": "t"}, workspace=workspace)

    r = run_cli("prompt", "render", "summarize", "--samples", home=workspace.root)
    assert r.returncode != 0 and r.stdout == ""
    assert f"{PATH} line {markers[0]}: unresolved merge conflict" in r.stderr
    assert "Traceback" not in r.stderr

    # the listing still shows the prompt, with the reason it cannot be used
    [summary] = [p for p in prompts.list_prompts(workspace) if p.name == "summarize"]
    assert summary.error is not None and "unresolved merge conflict" in summary.error


def test_planning_a_run_refuses_a_conflicted_file(workspace: Any) -> None:
    markers = conflicting_merge(workspace.root)
    with pytest.raises(MergeConflictError, match=f"lines {markers[0]}, {markers[1]}"):
        runs.plan_run(workspace, [("summarize", None)], ["sim-fast"], ("summaries", None))
    r = run_cli("run", "-p", "summarize", "-d", "summaries", "-m", "sim-fast", home=workspace.root)
    assert r.returncode != 0 and "unresolved merge conflict" in r.stderr


def test_eval_exits_2_on_a_conflicted_file(workspace: Any, sim: SimulatorHandle) -> None:
    markers = conflicting_merge(workspace.root, style="diff3")
    assert len(markers) == 4  # diff3 adds the ||||||| base section
    r = run_cli("eval", "summarize", home=workspace.root)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert f"{PATH} line {markers[0]}: unresolved merge conflict" in r.stderr
    assert f"lines {', '.join(map(str, markers))}" in r.stderr
    assert "PASSED" not in r.stdout and sim.calls == 0


def test_committed_markers_are_refused_at_that_version(workspace: Any) -> None:
    """`git commit -a` in the middle of a merge records the markers: that version is refused."""
    markers = conflicting_merge(workspace.root)
    git(workspace.root, "commit", "-q", "-am", "merge (markers left in)")
    version = prompts.prompt_history("summarize", workspace=workspace)[-1]
    with pytest.raises(MergeConflictError) as info:
        prompts.get_prompt("summarize", version.tag, workspace=workspace)
    assert f"{PATH}@{version.tag} line {markers[0]}" in str(info.value)


def test_saving_conflicted_text_is_refused_and_writes_nothing(workspace: Any) -> None:
    text = (workspace.root / PATH).read_text()
    head = git(workspace.root, "rev-parse", "HEAD").stdout
    conflicted = text.replace(
        "You are a precise editor.",
        "<<<<<<< HEAD\nYou are terse.\n=======\nYou are friendly.\n>>>>>>> friendly",
    )
    with pytest.raises(MergeConflictError):
        prompts.save_prompt("summarize", conflicted, "oops", workspace=workspace)
    assert git(workspace.root, "rev-parse", "HEAD").stdout == head
    assert (workspace.root / PATH).read_text() == text
    assert prompts.preview_prompt(conflicted, "summarize", {}).error is not None


def test_only_markers_at_line_start_count() -> None:
    heading = "user:\nTitle\n=======\nSay <<<<<<< and >>>>>>> inline, or ======= too.\n"
    assert conflict_lines(heading) == []
    assert parse_prompt(heading, "x").render()[0]["content"].startswith("Title\n=======")
    assert conflict_lines("a\n>>>>>>> theirs\n") == [2]  # a block cut in half still counts
    assert conflict_lines("<<<<<<< ours\r\na\r\n=======\r\nb\r\n>>>>>>> theirs\r\n") == [1, 3, 5]
