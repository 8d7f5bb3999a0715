"""Prompt bundles, get_prompt's cache and fallback, shallow clones and trace attributes."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import time
from pathlib import Path

import git
import pytest

import promptyard
from promptyard.errors import PromptyardError
from promptyard.prompts import BundleError, PromptTemplate, ShallowHistoryError
from promptyard.workspace import Workspace
from tests.cli import run_cli

SECRET = "sk-test-must-never-be-written-anywhere"
MODELS_YAML = """models:
  local-echo:
    model: openai/echo
    api_base: http://127.0.0.1:9/v1
    api_key_env: LOCAL_ECHO_KEY
    description: a local server
  unused:
    model: openai/other
"""


def _use_model(ws: Workspace, prompt: str, model: str) -> None:
    path = ws.prompts_dir / f"{prompt}.prompty"
    text = path.read_text()
    old = next(line for line in text.splitlines() if line.startswith("  id:"))
    promptyard.save_prompt(prompt, text.replace(old, f"  id: {model}", 1), "model")


def _bundle(ws: Workspace, *args: str) -> Path:
    out = ws.root.parent / "prompts.bundle.json"
    run_cli("bundle", *args, "--out", str(out), home=ws.root, check=True)
    return out


def test_bundle_file_holds_the_labelled_versions_and_their_models_without_keys(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCAL_ECHO_KEY", SECRET)
    (workspace.root / "models.yaml").write_text(MODELS_YAML)
    v1 = promptyard.prompt_history("summarize")[0]
    promptyard.label_prompt("summarize", "v1", "production")
    _use_model(workspace, "support_reply", "local-echo")
    promptyard.label_prompt("support_reply", "latest", "production")
    out = _bundle(workspace, "--label", "production")
    raw = out.read_text()
    assert SECRET not in raw
    data = json.loads(raw)
    assert (data["format"], data["format_version"], data["label"]) == (
        "promptyard-bundle",
        1,
        "production",
    )
    assert data["workspace_commit"] == git.Repo(workspace.root).head.commit.hexsha
    assert data["created_at"]
    by_name = {p["name"]: p for p in data["prompts"]}
    assert set(by_name) == {"summarize", "support_reply"}  # the others have no such label
    summarize = by_name["summarize"]
    assert (summarize["version"], summarize["sha"], summarize["labels"]) == (
        1,
        v1.sha,
        ["production"],
    )
    assert summarize["text"] == promptyard.prompts.prompt_text("summarize", "v1")
    assert summarize["parsed"]["model"] == "sim-fast"
    assert data["models"] == {
        "local-echo": {
            "model": "openai/echo",
            "api_base": "http://127.0.0.1:9/v1",
            "api_key_env": "LOCAL_ECHO_KEY",
            "description": "a local server",
        }
    }


def test_a_bundle_loads_with_no_git_and_renders_as_the_store_does(
    workspace: Workspace, tmp_path: Path
) -> None:
    out = _bundle(workspace)  # no label: each prompt's latest version
    app = tmp_path / "app"
    app.mkdir()
    shutil.copy(out, app / "bundle.json")
    code = (
        "import json, sys, promptyard\n"
        "p = promptyard.get_prompt('summarize')\n"
        "e = promptyard.get_prompt('extract_invoice', version=2)\n"
        "print(json.dumps({'messages': p.render(text='A late order.'),"
        " 'schema': e.response_schema, 'type': type(p).__name__, 'number': p.version.number,"
        " 'sha': p.version.sha, 'git': 'git' in sys.modules,"
        " 'store': 'promptyard.versioning' in sys.modules}))\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "PROMPTYARD_HOME"}
    env["PROMPTYARD_BUNDLE"] = "bundle.json"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=app, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert not (app / ".git").exists() and not got["git"] and not got["store"]
    stored = promptyard.get_prompt("summarize", "latest")
    assert got["messages"] == stored.render(text="A late order.")
    assert got["schema"] == promptyard.get_prompt("extract_invoice", "v2").response_schema
    assert (got["type"], got["number"], got["sha"]) == (
        "PromptTemplate",
        stored.version.number,
        stored.version.sha,
    )


def test_every_example_prompt_from_a_bundle_equals_the_store_one(workspace: Workspace) -> None:
    out = _bundle(workspace)
    for summary in promptyard.list_prompts():
        from_store = promptyard.get_prompt(summary.name, "latest")
        bundled = promptyard.get_prompt(summary.name, bundle=out)
        assert isinstance(bundled, PromptTemplate)
        for field in ("model", "parameters", "tools", "response_schema", "inputs", "messages"):
            assert getattr(bundled, field) == getattr(from_store, field), (summary.name, field)
        values = {**from_store.samples, **{v: "x" for v in from_store.variables}}
        values.update({t: [] for t in from_store.thread_inputs})
        assert bundled.render(values) == from_store.render(values)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "corrupt: not valid JSON (line 1"),
        ('{"format": "promptyard-bundle", "format_version": 99, "prompts": []}', "newer"),
        ('{"hello": 1}', "is not a Promptyard bundle"),
        (
            '{"format": "promptyard-bundle", "format_version": 1, "prompts": [{"name": "x"}]}',
            "prompt entry 1 is corrupt: field 'sha' is missing",
        ),
    ],
)
def test_a_bad_bundle_is_one_line_naming_the_file(
    tmp_path: Path, content: str, reason: str
) -> None:
    bad = tmp_path / "bad.bundle.json"
    bad.write_text(content)
    with pytest.raises(BundleError) as caught:
        promptyard.get_prompt("summarize", bundle=bad)
    message = str(caught.value)
    assert str(bad) in message and reason in message and "\n" not in message
    assert isinstance(caught.value, PromptyardError)


def test_a_bundle_lacking_the_prompt_label_or_version_says_what_it_has(
    workspace: Workspace,
) -> None:
    promptyard.label_prompt("summarize", "v1", "production")
    out = _bundle(workspace, "--label", "production")
    with pytest.raises(BundleError, match=r"has no prompt 'nope' \(it holds: summarize\)"):
        promptyard.get_prompt("nope", bundle=out)
    with pytest.raises(BundleError, match=r"labelled 'staging' \(labels in the bundle: production"):
        promptyard.get_prompt("summarize", label="staging", bundle=out)
    with pytest.raises(BundleError, match=r"has no version 'v2' of prompt 'summarize'"):
        promptyard.get_prompt("summarize", version="v2", bundle=out)
    assert promptyard.get_prompt("summarize", "production", bundle=out).label == "production"


def test_bundle_cli_refuses_bad_input_and_leaves_the_file_as_it_was(
    workspace: Workspace,
) -> None:
    out = workspace.root.parent / "kept.json"
    out.write_text("old content")
    bad = run_cli("bundle", "--label", "nosuch", "--out", str(out), home=workspace.root)
    assert bad.returncode == 1
    assert "no prompt version labelled 'nosuch'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    named = run_cli(
        "bundle",
        "--label",
        "nosuch",
        "--prompt",
        "summarize",
        "--out",
        str(out),
        home=workspace.root,
    )
    assert named.returncode == 1 and "cannot bundle prompt 'summarize'" in named.stderr
    assert out.read_text() == "old content"
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".kept")] == []


# --- the cache ---------------------------------------------------------------------------


def _break_store(ws: Workspace) -> None:
    """Make git unreadable without touching the files a cache entry watches (the prompt,
    labels.jsonl, git's index): git no longer sees a repository there."""
    git_dir = ws.root / ".git"
    (git_dir / "objects").rename(git_dir / "objects-away")


def test_get_prompt_is_served_from_the_cache_until_the_ttl_ends(workspace: Workspace) -> None:
    promptyard.label_prompt("summarize", "v1", "production")
    first = promptyard.get_prompt("summarize", label="production")
    _break_store(workspace)  # only a cache can answer now
    again = promptyard.get_prompt("summarize", label="production")
    assert again.version == first.version and again is not first
    with pytest.raises(PromptyardError, match="not inside a git repository"):
        promptyard.get_prompt("summarize", label="production", cache_ttl=0)


def test_a_short_ttl_expires(workspace: Workspace) -> None:
    promptyard.get_prompt("summarize", "v1", cache_ttl=0.05)
    _break_store(workspace)
    time.sleep(0.1)
    with pytest.raises(PromptyardError, match="not inside a git repository"):
        promptyard.get_prompt("summarize", "v1", cache_ttl=0.05)


def test_ttl_from_the_environment_and_bad_values(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTYARD_PROMPT_TTL", "0")
    promptyard.get_prompt("summarize", "v1")
    _break_store(workspace)
    with pytest.raises(PromptyardError, match="not inside a git repository"):
        promptyard.get_prompt("summarize", "v1")
    monkeypatch.setenv("PROMPTYARD_PROMPT_TTL", "soon")
    with pytest.raises(PromptyardError, match=r"\$PROMPTYARD_PROMPT_TTL='soon' is not a number"):
        promptyard.get_prompt("summarize", "v1")
    with pytest.raises(PromptyardError, match="cache_ttl must be a number of seconds >= 0"):
        promptyard.get_prompt("summarize", "v1", cache_ttl=-1)


def test_a_save_or_a_label_move_in_this_process_is_seen_at_once(workspace: Workspace) -> None:
    promptyard.label_prompt("summarize", "v1", "production")
    assert promptyard.get_prompt("summarize", label="production").version.tag == "v1"
    promptyard.label_prompt("summarize", "v2", "production")
    assert promptyard.get_prompt("summarize", label="production").version.tag == "v2"
    text = promptyard.get_prompt("summarize").source_text
    promptyard.save_prompt("summarize", text.replace("summarize", "sum up", 1), "edit")
    latest = promptyard.get_prompt("summarize")
    assert latest.version.tag == "v3" and "sum up" in latest.source_text


def test_a_commit_by_another_process_is_seen(workspace: Workspace) -> None:
    path = workspace.prompts_dir / "summarize.prompty"
    path.write_text(path.read_text() + "\nuser:\nAnother line.\n")
    assert promptyard.get_prompt("summarize").version is None  # unsaved, now cached
    subprocess.run(["git", "commit", "-qam", "saved elsewhere"], cwd=workspace.root, check=True)
    assert promptyard.get_prompt("summarize").version.tag == "v3"


def test_an_edit_of_the_file_by_another_program_is_seen(workspace: Workspace) -> None:
    assert promptyard.get_prompt("summarize").version is not None
    path = workspace.prompts_dir / "summarize.prompty"
    path.write_text(path.read_text() + "\nuser:\nOne more line.\n")
    edited = promptyard.get_prompt("summarize")
    assert edited.version is None and "One more line." in edited.source_text


# --- the fallback ------------------------------------------------------------------------


def test_fallback_is_used_with_a_warning_when_the_store_cannot_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    nowhere = tmp_path / "no-workspace"
    nowhere.mkdir()
    monkeypatch.setenv("PROMPTYARD_HOME", str(nowhere))
    with pytest.raises(PromptyardError, match="not inside a git repository"):
        promptyard.get_prompt("summarize", label="production")
    with caplog.at_level(logging.WARNING, logger="promptyard.prompts"):
        got = promptyard.get_prompt(
            "summarize", label="production", fallback="system:\nSummarize.\nuser:\n{{ text }}"
        )
    assert got.render(text="hi") == [
        {"role": "system", "content": "Summarize."},
        {"role": "user", "content": "hi"},
    ]
    assert got.version is None
    assert "using the fallback" in caplog.text and "not inside a git repository" in caplog.text
    template = promptyard.parse_prompt("user:\n{{ q }}", "summarize")
    assert promptyard.get_prompt("summarize", fallback=template).render(q="a")[0]["content"] == "a"


def test_fallback_covers_a_corrupt_bundle_too(tmp_path: Path) -> None:
    bad = tmp_path / "b.json"
    bad.write_text("[")
    got = promptyard.get_prompt("x", bundle=bad, fallback="user:\nhello")
    assert got.render() == [{"role": "user", "content": "hello"}]


# --- shallow clones ----------------------------------------------------------------------


def _clone(workspace: Workspace, target: Path, depth: int) -> Workspace:
    subprocess.run(
        ["git", "clone", "-q", "--depth", str(depth), f"file://{workspace.root}", str(target)],
        check=True,
    )
    return Workspace(target.resolve())


def test_a_shallow_clone_with_the_labelled_commit_works_and_does_not_guess_numbers(
    workspace: Workspace, tmp_path: Path
) -> None:
    text = promptyard.get_prompt("summarize").source_text
    v3 = promptyard.save_prompt("summarize", text.replace("summarize", "condense", 1), "v3")
    promptyard.label_prompt("summarize", "v3", "production")  # HEAD: the label; HEAD~1: v3
    clone = _clone(workspace, tmp_path / "deploy", depth=2)
    got = promptyard.get_prompt("summarize", label="production", workspace=clone)
    assert got.version.sha == v3.sha and got.version.number is None
    assert got.version.labels == ("production",)
    assert got.render(text="x") == promptyard.get_prompt("summarize", "v3").render(text="x")
    attributes = got.trace_attributes()
    assert attributes["promptyard.prompt.sha"] == v3.sha
    assert "promptyard.prompt.version" not in attributes  # unknown here, so not sent
    # the file as it is: v3's commit is the clone's edge, which git shows as adding every
    # file, so which version the file is cannot be told there; never a counted "v1"
    assert promptyard.get_prompt("summarize", workspace=clone).version is None
    with pytest.raises(ShallowHistoryError, match="latest version cannot be told"):
        promptyard.get_prompt("summarize", "latest", workspace=clone)
    deeper = _clone(workspace, tmp_path / "deeper", depth=3)
    assert promptyard.get_prompt("summarize", workspace=deeper).version.sha == v3.sha


def test_a_shallow_clone_without_the_labelled_commit_says_so_in_one_line(
    workspace: Workspace, tmp_path: Path
) -> None:
    promptyard.label_prompt("summarize", "v1", "production")
    clone = _clone(workspace, tmp_path / "deploy", depth=1)
    with pytest.raises(ShallowHistoryError) as caught:
        promptyard.get_prompt("summarize", label="production", workspace=clone)
    message = str(caught.value)
    assert "\n" not in message
    assert "shallow" in message and "bundle" in message and "git fetch --unshallow" in message
    with pytest.raises(ShallowHistoryError, match="shallow"):
        promptyard.get_prompt("summarize", "v1", workspace=clone)


# --- trace attributes --------------------------------------------------------------------


def test_trace_attributes_name_the_version_label_and_variables(workspace: Workspace) -> None:
    promptyard.label_prompt("summarize", "v2", "production")
    prompt = promptyard.get_prompt("summarize", label="production")
    attributes = prompt.trace_attributes(text="Late order", extra=3)
    assert attributes == {
        "promptyard.prompt.name": "summarize",
        "promptyard.prompt.version": 2,
        "promptyard.prompt.sha": prompt.version.sha,
        "promptyard.prompt.label": "production",
        "promptyard.prompt.variables": json.dumps({"extra": 3, "text": "Late order"}),
    }
    by_version = promptyard.get_prompt("summarize", version=2).trace_attributes()
    assert "promptyard.prompt.label" not in by_version
    assert "promptyard.prompt.variables" not in by_version
    path = workspace.prompts_dir / "summarize.prompty"
    path.write_text(path.read_text() + "\n")
    unsaved = promptyard.get_prompt("summarize").trace_attributes({"text": "t"})
    assert set(unsaved) == {"promptyard.prompt.name", "promptyard.prompt.variables"}


def test_one_of_ref_label_and_version(workspace: Workspace) -> None:
    with pytest.raises(PromptyardError, match="give one of ref, label and version"):
        promptyard.get_prompt("summarize", "v1", label="production")


def test_the_workbench_cli_reads_the_workspace_even_with_a_bundle_in_the_env(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    promptyard.label_prompt("summarize", "v1", "production")
    out = _bundle(workspace, "--label", "production")
    monkeypatch.setenv("PROMPTYARD_BUNDLE", str(out))
    assert promptyard.get_prompt("summarize").version.number == 1  # an app reads the bundle
    shown = run_cli("prompt", "show", "summarize", "--json", home=workspace.root, check=True)
    assert json.loads(shown.stdout)["version"]["version"] == "v2"  # the workbench, its files
