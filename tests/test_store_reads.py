"""The store's read side runs git as a plain process (versioning.git_files), never through
gitpython: it must find the repository where git does and read what gitpython reads, in
a worktree, a new repository, with packed refs, and past a broken `.git`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import git
import pytest

from promptyard.errors import PromptyardError
from promptyard.versioning import Store
from promptyard.workspace import Workspace

P = "prompts/greet.prompty"
ROOT = Path(__file__).resolve().parent.parent


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _saved(root: Path, *texts: str) -> Store:
    store = Store(Workspace(root))
    for number, text in enumerate(texts, start=1):
        store.save(P, text, f"edit {number}")
    return store


def test_history_and_texts_are_what_gitpython_reads(empty_workspace: Workspace) -> None:
    store = _saved(empty_workspace.root, "one\n", "two\n", "three\n")
    repo = git.Repo(empty_workspace.root)
    commits = list(reversed(list(repo.iter_commits(paths=P))))
    history = store.history(P)
    assert [v.sha for v in history] == [c.hexsha for c in commits]
    assert [v.message for v in history] == [c.summary for c in commits]
    assert [v.date for v in history] == [c.authored_datetime for c in commits]
    for version, commit in zip(history, commits, strict=True):
        blob = commit.tree / P
        assert store.read_version(version) == blob.data_stream.read().decode()


def test_reading_versions_never_loads_gitpython(empty_workspace: Workspace) -> None:
    _saved(empty_workspace.root, "one\n", "two\n")
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from promptyard.versioning import Store\n"
        "from promptyard.workspace import Workspace\n"
        f"store = Store(Workspace(Path({str(empty_workspace.root)!r})))\n"
        f"versions = store.history({P!r})\n"
        "print(len(versions), store.read_version(versions[0]).strip(),"
        f" store.has_unsaved_edits({P!r}), 'git' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )
    assert done.stdout.split() == ["2", "one", "False", "False"]


def test_a_workspace_in_a_linked_worktree_reads_and_saves(empty_workspace: Workspace) -> None:
    main = empty_workspace.root
    _saved(main, "one\n")
    linked = main.parent / "linked"
    _git(main, "worktree", "add", "-q", "-b", "side", str(linked))
    store = Store(Workspace(linked))
    assert store.git_dir == Path(_git(linked, "rev-parse", "--absolute-git-dir"))
    assert [v.tag for v in store.history(P)] == ["v1"]
    store.save(P, "two on the side\n", "side edit")
    assert [store.read_version(v) for v in store.history(P)] == ["one\n", "two on the side\n"]
    assert [v.tag for v in Store(Workspace(main)).history(P)] == ["v1"]  # main is untouched


def test_a_new_repository_has_no_versions_until_the_first_save(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    git.Repo.init(root, initial_branch="main")
    store = Store(Workspace(root))
    assert store.history(P) == [] and store.head() is None
    store.save(P, "first\n", "first")
    assert [v.tag for v in store.history(P)] == ["v1"]
    assert store.head() == git.Repo(root).head.commit.hexsha


def test_packed_refs_are_read_like_loose_ones(empty_workspace: Workspace) -> None:
    store = _saved(empty_workspace.root, "one\n", "two\n")
    _git(empty_workspace.root, "pack-refs", "--all")
    assert not (store.git_dir / "refs" / "heads" / "main").exists()
    assert [v.tag for v in Store(empty_workspace).history(P)] == ["v1", "v2"]
    assert Store(empty_workspace).head() == git.Repo(empty_workspace.root).head.commit.hexsha


def test_a_broken_git_folder_is_passed_over_as_git_does(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    git.Repo.init(outer, initial_branch="main")
    inner = outer / "inner"
    (inner / ".git").mkdir(parents=True)  # no HEAD, objects or refs: not a repository
    store = Store(Workspace(inner))
    assert store.top == Path(_git(inner, "rev-parse", "--show-toplevel"))
    assert store.repo_path(P) == f"inner/{P}"


def test_no_repository_at_all_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(PromptyardError, match="not inside a git repository; run `promptyard init`"):
        Store(Workspace(tmp_path / "plain"))
