"""Settings' git remote: status, fetch, pull and push, and a conflicting pull resolved on the
page (real git, a local bare remote)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from promptyard.versioning import Store, push
from promptyard.workspace import Workspace
from tests.test_sync import PROMPT, clones, edit, git

__all__ = ["clones"]  # the fixture, used here by name

PAGE = str(Path(__file__).resolve().parent.parent / "app" / "views" / "settings.py")


def _app() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _button(at: AppTest, key: str):  # type: ignore[no-untyped-def]
    return at.button(key=key)


def test_no_remote_says_how_to_add_one(workspace: Workspace) -> None:
    at = _app()
    assert any("has no remote" in i.value for i in at.info)


def test_fetch_shows_behind_then_pull_brings_the_commit(
    clones: tuple[Workspace, Workspace], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = clones
    theirs = edit(a, "from A")
    push(a)
    monkeypatch.setenv("PROMPTYARD_HOME", str(b.root))
    at = _app()
    assert _metrics(at) == {"Branch": "main", "Remote": "origin/main", "Ahead": "0", "Behind": "0"}
    _button(at, "settings.fetch").click().run()
    assert _metrics(at)["Behind"] == "1"
    _button(at, "settings.pull").click().run()
    assert not at.exception
    assert any("Pulled 1 commit" in s.value for s in at.success)
    assert (b.root / PROMPT).read_text() == theirs
    assert _metrics(at)["Behind"] == "0"


def test_a_conflicting_pull_shows_both_sides_and_waits_for_a_choice(
    clones: tuple[Workspace, Workspace], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = clones
    theirs = edit(a, "from A")
    push(a)
    ours = edit(b, "from B")
    head = git(b.root, "rev-parse", "HEAD")
    monkeypatch.setenv("PROMPTYARD_HOME", str(b.root))
    at = _app()
    _button(at, "settings.pull").click().run()
    assert not at.exception
    assert any("Nothing was changed" in w.value for w in at.warning)
    shown = [c.value.strip() for c in at.code]
    assert ours.strip() in shown and theirs.strip() in shown
    assert _button(at, "settings.resolve").disabled
    assert git(b.root, "rev-parse", "HEAD") == head
    assert (b.root / PROMPT).read_text() == ours
    at.radio(key="settings.sync_side::0").set_value("take the remote's").run()
    assert not _button(at, "settings.resolve").disabled
    _button(at, "settings.resolve").click().run()
    assert not at.exception
    assert any("Pulled" in s.value for s in at.success)
    assert (b.root / PROMPT).read_text() == theirs
    assert Store(b).read(PROMPT) == theirs
    assert _metrics(at)["Ahead"] == "2"  # B's own edit and the merge, not pushed yet
    _button(at, "settings.push").click().run()
    assert any("Pushed 2 commit" in s.value for s in at.success)


def test_a_password_in_the_remote_url_never_reaches_the_page(
    workspace: Workspace,
) -> None:
    subprocess.run(
        ["git", "remote", "add", "origin", "https://bot:ghp_SECRET123@example.invalid/x.git"],
        cwd=workspace.root,
        check=True,
    )
    at = _app()
    shown = "\n".join(c.value for c in at.caption)
    assert "https://bot:***@example.invalid/x.git" in shown
    assert "ghp_SECRET123" not in shown
