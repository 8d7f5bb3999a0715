"""The workspace's git remote: status, pull, push and sync, with real git and a bare remote."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from promptyard.versioning import (
    Side,
    Store,
    SyncError,
    SyncStatus,
    init_workspace,
    pull,
    push,
    remote_status,
    resolve,
    sync,
)
from promptyard.workspace import Workspace
from tests.cli import run_cli

PROMPT = "prompts/summarize.prompty"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def clones(workspace: Workspace, tmp_path: Path) -> tuple[Workspace, Workspace]:
    """The workspace (A) pushed to a bare remote, and a second clone of it (B)."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(remote))
    git(workspace.root, "remote", "add", "origin", str(remote))
    git(workspace.root, "push", "--quiet", "--set-upstream", "origin", "main")
    other = tmp_path / "b"
    git(tmp_path, "clone", "--quiet", str(remote), str(other))
    return workspace, Workspace(other.resolve())


def edit(ws: Workspace, marker: str) -> str:
    store = Store(ws)
    text = store.read(PROMPT).replace("Summarize", f"Summarize ({marker})", 1)
    assert text != store.read(PROMPT)
    store.save(PROMPT, text, f"edit {marker}")
    return text


def test_status_shows_the_remote_branch_and_ahead_behind(
    clones: tuple[Workspace, Workspace],
) -> None:
    a, b = clones
    status = remote_status(a)
    assert (status.branch, status.remote, status.upstream) == ("main", "origin", "origin/main")
    assert (status.ahead, status.behind) == (0, 0)
    assert status.url is not None and status.url.endswith("remote.git")
    edit(a, "a")
    assert remote_status(a).ahead == 1
    assert push(a).pushed == 1
    assert remote_status(b).behind == 0  # not fetched yet
    assert remote_status(b, fetch=True).behind == 1


def test_two_clones_moving_labels_at_once_merge_without_conflict(
    clones: tuple[Workspace, Workspace],
) -> None:
    a, b = clones
    store_a, store_b = Store(a), Store(b)
    versions = store_a.history(PROMPT)
    assert len(versions) >= 2
    store_a.set_label(PROMPT, versions[0].sha, "production", who="alice")
    store_b.set_label(PROMPT, versions[-1].sha, "staging", who="bob")
    store_b.set_label(PROMPT, versions[-1].sha, "canary", who="bob")
    assert sync(a).status is SyncStatus.PUSHED
    result = sync(b)  # both changed labels.jsonl: a union, no conflict
    assert result.status is SyncStatus.SYNCED, result.message
    assert sync(a).status is SyncStatus.PULLED
    for ws in (a, b):
        labels = {name: v.sha for name, v in Store(ws).labels(PROMPT).items()}
        assert labels == {
            "production": versions[0].sha,
            "staging": versions[-1].sha,
            "canary": versions[-1].sha,
        }
        moves = [json.loads(line) for line in ws.labels_file.read_text().splitlines()]
        assert sorted(m["who"] for m in moves if m["path"] == PROMPT) == ["alice", "bob", "bob"]
        assert "<<<<<<<" not in ws.labels_file.read_text()
    assert git(a.root, "rev-parse", "HEAD") == git(b.root, "rev-parse", "HEAD")


def test_an_old_workspace_gets_the_union_merge_on_its_first_sync(
    clones: tuple[Workspace, Workspace],
) -> None:
    a, b = clones
    Store(a).delete(".gitattributes", "an old workspace, before union merges")
    push(a)
    sync(b)
    assert not (b.root / ".gitattributes").exists()
    store_a, store_b = Store(a), Store(b)
    sha = store_a.history(PROMPT)[0].sha
    store_b.set_label(PROMPT, sha, "staging", who="bob")
    assert sync(b).status is SyncStatus.PUSHED  # writes .gitattributes, then pushes
    assert "labels.jsonl merge=union" in (b.root / ".gitattributes").read_text()
    store_a.set_label(PROMPT, sha, "production", who="alice")
    assert sync(a).status is SyncStatus.SYNCED
    assert set(Store(a).labels(PROMPT)) == {"staging", "production"}


def test_a_conflicting_pull_shows_both_sides_and_changes_nothing_until_resolved(
    clones: tuple[Workspace, Workspace],
) -> None:
    a, b = clones
    theirs = edit(a, "from A")
    push(a)
    ours = edit(b, "from B")
    head = git(b.root, "rev-parse", "HEAD")
    result = pull(b)
    assert result.status is SyncStatus.CONFLICT
    assert [c.path for c in result.conflicts] == [PROMPT]
    conflict = result.conflicts[0]
    assert (conflict.ours, conflict.theirs) == (ours, theirs)
    assert "conflicts in prompts/summarize.prompty" in result.message
    # nothing changed: HEAD, the file, no merge in progress, a clean tree
    assert git(b.root, "rev-parse", "HEAD") == head
    assert (b.root / PROMPT).read_text() == ours
    assert not (b.root / ".git" / "MERGE_HEAD").exists()
    assert git(b.root, "status", "--porcelain") == ""
    with pytest.raises(SyncError, match="choose a side for prompts/summarize.prompty"):
        resolve(b, result.theirs or "", {})
    assert git(b.root, "rev-parse", "HEAD") == head
    assert resolve(b, result.theirs or "", {PROMPT: Side.THEIRS}).status is SyncStatus.PULLED
    assert (b.root / PROMPT).read_text() == theirs
    assert Store(b).read(PROMPT) == theirs
    assert git(b.root, "status", "--porcelain") == ""
    parents = git(b.root, "log", "-1", "--format=%P").split()
    assert head in parents and len(parents) == 2
    assert sync(b).status is SyncStatus.PUSHED
    assert sync(a).status is SyncStatus.PULLED


def test_push_refused_when_the_remote_moved_and_no_remote_is_one_line(
    clones: tuple[Workspace, Workspace], tmp_path: Path
) -> None:
    a, b = clones
    edit(a, "a")
    push(a)
    edit(b, "b")
    with pytest.raises(SyncError, match="pull first"):
        push(b)
    with pytest.raises(SyncError, match="no remote"):
        sync(init_workspace(tmp_path / "alone", examples=False))


def test_the_sync_command_shows_both_sides_then_resolves(
    clones: tuple[Workspace, Workspace], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = clones
    edit(a, "from A")
    push(a)
    ours = edit(b, "from B")
    monkeypatch.setenv("PROMPTYARD_HOME", str(b.root))
    stopped = run_cli("sync", home=b.root)
    assert stopped.returncode == 2
    assert "conflicts in prompts/summarize.prompty" in stopped.stdout
    assert "(from A)" in stopped.stdout and "(from B)" in stopped.stdout
    assert (b.root / PROMPT).read_text() == ours
    status = run_cli("sync", "--status").stdout
    assert "1 ahead, 1 behind" in status
    done = run_cli("sync", "--ours", PROMPT, home=b.root)
    assert done.returncode == 0, done.stderr
    assert (b.root / PROMPT).read_text() == ours
    assert "0 ahead, 0 behind" in run_cli("sync", "--status").stdout
    wrong = run_cli("sync", "--pull", "--push", home=b.root)
    assert wrong.returncode == 1 and "exclude each other" in wrong.stderr


def test_a_workspace_in_a_subfolder_of_its_repository_syncs_with_its_own_paths(
    tmp_path: Path,
) -> None:
    top = tmp_path / "app"
    git(tmp_path, "init", "--quiet", "--initial-branch=main", str(top))
    a = init_workspace(top / "promptyard", examples=False)
    Store(a).save("prompts/hello.prompty", "---\nname: hello\n---\nuser:\nHi {{ who }}\n", "add")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(remote))
    git(top, "remote", "add", "origin", str(remote))
    assert push(a).status is SyncStatus.PUSHED
    git(tmp_path, "clone", "--quiet", str(remote), str(tmp_path / "b"))
    b = Workspace((tmp_path / "b" / "promptyard").resolve())
    path = "prompts/hello.prompty"
    Store(a).save(path, "---\nname: hello\n---\nuser:\nHello {{ who }}\n", "a")
    push(a)
    mine = "---\nname: hello\n---\nuser:\nHey {{ who }}\n"
    Store(b).save(path, mine, "b")
    result = pull(b)
    assert [c.path for c in result.conflicts] == [path]  # relative to the workspace
    assert resolve(b, result.theirs or "", {path: Side.OURS}).status is SyncStatus.PULLED
    assert (b.root / path).read_text() == mine
    assert (top / "promptyard" / ".gitattributes").is_file()
