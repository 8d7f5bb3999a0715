"""The `promptyard init` and `promptyard prompt ...` commands, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import git
import pytest

from promptyard.workspace import Workspace
from tests.cli import run_cli


def cli(
    *args: str, home: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, home=home, check=check, timeout=120)


def test_init_makes_a_repository_with_two_versions_of_each_example(tmp_path: Path) -> None:
    target = tmp_path / "fresh"
    out = cli("init", str(target)).stdout
    assert "Made a new git repository" in out
    repo = git.Repo(target)
    assert not repo.is_dirty(untracked_files=True)
    history = json.loads(cli("prompt", "history", "summarize", "--json", home=target).stdout)
    assert [v["version"] for v in history] == ["v1", "v2"]
    ignored = (target / ".gitignore").read_text().splitlines()
    assert ".promptyard/" in ignored and ".streamlit/secrets.toml" in ignored


def test_init_again_changes_nothing_and_overwrites_nothing(tmp_path: Path) -> None:
    target = tmp_path / "ws2"
    cli("init", str(target))
    (target / "prompts" / "summarize.prompty").write_text("user:\nmy own edit\n")
    commits = len(list(git.Repo(target).iter_commits()))
    out = cli("init", str(target)).stdout
    assert "Nothing to add" in out
    assert (target / "prompts" / "summarize.prompty").read_text() == "user:\nmy own edit\n"
    assert len(list(git.Repo(target).iter_commits())) == commits


def test_list_show_render_json(workspace: Workspace) -> None:
    names = [p["name"] for p in json.loads(cli("prompt", "list", "--json").stdout)]
    assert {"extract_invoice", "summarize", "support_reply"} <= set(names)
    assert names == sorted(names)
    shown = json.loads(cli("prompt", "show", "summarize@v1", "--json").stdout)
    assert shown["version"]["version"] == "v1"
    assert shown["variables"] == ["text"]
    messages = json.loads(
        cli("prompt", "render", "summarize", "--var", "text=Ship it", "--json").stdout
    )
    assert messages[-1]["role"] == "user" and "Ship it" in messages[-1]["content"]


def test_save_label_and_render_by_label(workspace: Workspace, tmp_path: Path) -> None:
    edited = tmp_path / "new.prompty"
    edited.write_text("---\nmodel: sim-fast\n---\nuser:\nTL;DR: {{ text }}\n")
    out = cli(
        "prompt", "save", "summarize", "--file", str(edited), "-m", "Shorter", "--base", "v2"
    ).stdout
    assert "v3" in out
    cli("prompt", "label", "summarize", "v3", "production")
    rendered = cli("prompt", "render", "summarize@production", "--var", "text=hello").stdout
    assert "TL;DR: hello" in rendered
    moves = json.loads(cli("prompt", "labels", "summarize", "--json").stdout)
    assert moves[-1]["label"] == "production"


def test_save_creates_a_new_prompt(workspace: Workspace, tmp_path: Path) -> None:
    f = tmp_path / "x.prompty"
    f.write_text("Hello {{ name }}\n")
    cli("prompt", "save", "greet", "--file", str(f), "-m", "New prompt")
    assert (workspace.root / "prompts" / "greet.prompty").is_file()


def test_diff_shows_changed_lines(workspace: Workspace) -> None:
    out = cli("prompt", "diff", "summarize", "v1", "v2").stdout
    assert "-You summarize text." in out
    assert "+You are a precise editor." in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("prompt", "show", "nope"), "no prompt named 'nope'"),
        (("prompt", "show", "summarize@v9"), "no version v9"),
        (("prompt", "render", "summarize"), "missing variable: text"),
        (("prompt", "history", "../etc"), "path separator"),
        (("prompt", "render", "summarize", "--var", "oops"), "KEY=VALUE"),
    ],
)
def test_errors_exit_nonzero_with_one_line(
    workspace: Workspace, args: tuple[str, ...], needle: str
) -> None:
    result = cli(*args, check=False)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert needle in lines[0]


def test_broken_template_is_not_saved(workspace: Workspace, tmp_path: Path) -> None:
    f = tmp_path / "bad.prompty"
    f.write_text("user:\nHello {{ name \n")
    result = cli("prompt", "save", "summarize", "--file", str(f), "-m", "broken", check=False)
    assert result.returncode == 1
    assert "line 2, column 7" in result.stderr
    history = json.loads(cli("prompt", "history", "summarize", "--json").stdout)
    assert len(history) == 2


def test_conflicting_save_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    f = tmp_path / "a.prompty"
    f.write_text("user:\nfirst {{ text }}\n")
    cli("prompt", "save", "summarize", "--file", str(f), "-m", "one", "--base", "v2")
    f.write_text("user:\nsecond {{ text }}\n")
    result = cli(
        "prompt", "save", "summarize", "--file", str(f), "-m", "two", "--base", "v2", check=False
    )
    assert result.returncode == 1
    assert "conflict" in result.stderr
    assert "first" in (workspace.root / "prompts" / "summarize.prompty").read_text()


def test_non_utf8_file_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    f = tmp_path / "latin.prompty"
    f.write_bytes("user:\nCafé {{ text }}\n".encode("latin-1"))
    result = cli("prompt", "save", "summarize", "--file", str(f), "-m", "x", check=False)
    assert result.returncode == 1
    assert "not UTF-8" in result.stderr


@pytest.mark.parametrize("name", ["a/b", "..", ".hidden", "x" * 101])
def test_unsafe_names_write_nothing(workspace: Workspace, tmp_path: Path, name: str) -> None:
    f = tmp_path / "ok.prompty"
    f.write_text("user:\nhi\n")
    before = sorted(p.name for p in (workspace.root / "prompts").iterdir())
    result = cli("prompt", "save", name, "--file", str(f), "-m", "x", check=False)
    assert result.returncode == 1
    assert sorted(p.name for p in (workspace.root / "prompts").iterdir()) == before
    assert not git.Repo(workspace.root).is_dirty(untracked_files=True)
