"""Git versioning: one-file commits, history, resolve, diff, restore, delete, labels, conflicts."""

from __future__ import annotations

import git
import pytest

from promptyard.errors import NotFoundError, PromptyardError
from promptyard.versioning import ConflictError, RepositoryStateError, Store
from promptyard.workspace import Workspace

P = "prompts/greet.prompty"


def _commits(ws: Workspace) -> int:
    return len(list(git.Repo(ws.root).iter_commits()))


@pytest.fixture
def store(empty_workspace: Workspace) -> Store:
    return Store(empty_workspace)


def test_save_numbers_versions_along_the_file_history(store: Store) -> None:
    v1 = store.save(P, "hello\n", "first")
    v2 = store.save(P, "hello there\n", "second", base=v1.sha)
    history = store.history(P)
    assert [v.tag for v in history] == ["v1", "v2"]
    assert [v.message for v in history] == ["first", "second"]
    assert history[-1].sha == v2.sha
    assert store.read(P, "v1") == "hello\n"
    assert store.read(P) == "hello there\n"


def test_save_commits_only_that_file(store: Store, empty_workspace: Workspace) -> None:
    root = empty_workspace.root
    store.save(P, "one\n", "first")
    (root / "notes.txt").write_text("staged work\n")
    (root / "scratch.txt").write_text("unstaged work\n")
    repo = git.Repo(root)
    repo.index.add(["notes.txt"])
    store.save(P, "two\n", "second")
    head = repo.head.commit
    assert list(head.stats.files) == [P]
    # The other staged change is still staged, the untracked file still untracked.
    assert "notes.txt" in [d.a_path for d in repo.index.diff("HEAD")]
    assert "scratch.txt" in repo.untracked_files


def test_author_comes_from_settings_then_git_config(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save(P, "a\n", "by git config")
    assert store.history(P)[-1].author == "Test User"
    monkeypatch.setenv("PROMPTYARD_AUTHOR_NAME", "Ada Settings")
    store.save(P, "b\n", "by settings")
    assert store.history(P)[-1].author == "Ada Settings"


def test_author_falls_back_to_promptyard(
    store: Store, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "empty.gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    store.save(P, "a\n", "anonymous")
    assert store.history(P)[-1].author == "Promptyard"


def test_resolve_by_number_sha_prefix_label_and_latest(store: Store) -> None:
    v1 = store.save(P, "1\n", "m1")
    v2 = store.save(P, "2\n", "m2")
    store.set_label(P, "v1", "production")
    assert store.resolve(P, "v2").sha == v2.sha
    assert store.resolve(P, "1").sha == v1.sha
    assert store.resolve(P, v1.sha[:7]).sha == v1.sha
    assert store.resolve(P, "production").sha == v1.sha
    assert store.resolve(P).sha == v2.sha
    with pytest.raises(NotFoundError, match="v1 to v2"):
        store.resolve(P, "v9")
    with pytest.raises(NotFoundError, match="labels: production"):
        store.resolve(P, "staging")


def test_conflicting_save_is_refused_and_loses_nothing(store: Store) -> None:
    v1 = store.save(P, "base\n", "m1")
    store.save(P, "theirs\n", "someone else", base=v1.sha)
    with pytest.raises(ConflictError) as info:
        store.save(P, "mine\n", "me", base=v1.sha)
    exc = info.value
    assert exc.ours == "mine\n" and exc.theirs == "theirs\n"
    assert "-theirs" in exc.diff and "+mine" in exc.diff
    assert store.read(P) == "theirs\n"
    assert len(store.history(P)) == 2


def test_uncommitted_edit_on_disk_is_a_conflict(store: Store, empty_workspace: Workspace) -> None:
    store.save(P, "saved\n", "m1")
    (empty_workspace.root / P).write_text("edited in vim\n")
    with pytest.raises(ConflictError):
        store.save(P, "from the browser\n", "m2")
    assert (empty_workspace.root / P).read_text() == "edited in vim\n"


def test_saving_the_same_content_makes_no_commit(store: Store, empty_workspace: Workspace) -> None:
    v1 = store.save(P, "x\n", "m1")
    before = _commits(empty_workspace)
    assert store.save(P, "x\n", "again").sha == v1.sha
    assert _commits(empty_workspace) == before


def test_restore_makes_a_new_version_with_old_content(store: Store) -> None:
    store.save(P, "old\n", "m1")
    store.save(P, "new\n", "m2")
    v3 = store.restore(P, "v1")
    assert v3.tag == "v3"
    assert store.read(P) == "old\n"
    assert "Restore" in v3.message


def test_delete_is_a_commit_and_history_stays(store: Store, empty_workspace: Workspace) -> None:
    store.save(P, "a\n", "m1")
    gone = store.delete(P, "remove it")
    assert gone.deleted and gone.tag == "v2"
    assert not (empty_workspace.root / P).exists()
    assert store.read(P, "v1") == "a\n"
    with pytest.raises(NotFoundError, match="deleted"):
        store.read(P, "v2")
    back = store.restore(P, "v1")
    assert back.tag == "v3" and store.read(P) == "a\n"


def test_diff_between_any_two_versions(store: Store) -> None:
    store.save(P, "line one\nline two\n", "m1")
    store.save(P, "line one\nline 2\n", "m2")
    diff = store.diff(P, "v1", "v2")
    assert "-line two" in diff and "+line 2" in diff
    assert "v1" in diff and "v2" in diff


def test_labels_move_with_an_audit_trail(store: Store) -> None:
    v1 = store.save(P, "1\n", "m1")
    v2 = store.save(P, "2\n", "m2")
    store.set_label(P, "v1", "production", who="alice")
    store.set_label(P, "v2", "production", who="bob")
    assert store.labels(P)["production"].sha == v2.sha
    moves = store.label_moves(P)
    assert [(m.from_sha, m.to_sha, m.who) for m in moves] == [
        (None, v1.sha, "alice"),
        (v1.sha, v2.sha, "bob"),
    ]
    assert store.history(P)[-1].labels == ("production",)


def test_label_names_are_checked(store: Store) -> None:
    store.save(P, "1\n", "m1")
    for bad in ("v2", "../x", "", "a/b"):
        with pytest.raises(PromptyardError):
            store.set_label(P, "v1", bad)


def test_labels_are_committed_to_git(store: Store, empty_workspace: Workspace) -> None:
    store.save(P, "1\n", "m1")
    store.set_label(P, "v1", "production")
    repo = git.Repo(empty_workspace.root)
    assert "labels.jsonl" in repo.head.commit.stats.files
    assert not repo.is_dirty(untracked_files=True)


def test_index_lock_refuses_the_save(store: Store, empty_workspace: Workspace) -> None:
    store.save(P, "1\n", "m1")
    lock = empty_workspace.root / ".git" / "index.lock"
    lock.write_text("")
    with pytest.raises(RepositoryStateError, match="index.lock"):
        store.save(P, "2\n", "m2")
    lock.unlink()
    assert store.read(P) == "1\n"


def test_detached_head_refuses_the_save(store: Store, empty_workspace: Workspace) -> None:
    v1 = store.save(P, "1\n", "m1")
    store.save(P, "2\n", "m2")
    repo = git.Repo(empty_workspace.root)
    repo.git.checkout(v1.sha)
    with pytest.raises(RepositoryStateError, match="detached"):
        store.save(P, "3\n", "m3")
    assert store.read(P) == "1\n"


def test_merge_in_progress_refuses_the_save(store: Store, empty_workspace: Workspace) -> None:
    store.save(P, "1\n", "m1")
    (empty_workspace.root / ".git" / "MERGE_HEAD").write_text("0" * 40 + "\n")
    with pytest.raises(RepositoryStateError, match="merge"):
        store.save(P, "2\n", "m2")
    assert store.read(P) == "1\n"


def test_non_utf8_file_gets_a_clear_message(store: Store, empty_workspace: Workspace) -> None:
    target = empty_workspace.root / P
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes("café".encode("latin-1"))
    with pytest.raises(PromptyardError, match="not UTF-8"):
        store.read(P)


def test_paths_outside_the_workspace_are_refused(store: Store) -> None:
    with pytest.raises(PromptyardError, match="outside"):
        store.save("../escape.txt", "x", "m")


def test_workspace_in_a_subfolder_of_a_repository(tmp_path) -> None:  # type: ignore[no-untyped-def]
    repo_root = tmp_path / "app"
    git.Repo.init(repo_root, initial_branch="main")
    ws = Workspace((repo_root / "llm").resolve())
    ws.root.mkdir()
    store = Store(ws)
    store.save(P, "hi\n", "m1")
    assert store.history(P)[0].tag == "v1"
    assert list(git.Repo(repo_root).head.commit.stats.files) == ["llm/" + P]
