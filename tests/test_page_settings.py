"""The Settings page: workspace facts without secrets, and the rating scheme editor."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from promptyard import ratings
from promptyard.versioning.store import Store

PAGE = str(Path(__file__).resolve().parent.parent / "app" / "views" / "settings.py")


def _app() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _everything(at: AppTest) -> str:
    parts = [c.value for c in at.code] + [t.value for t in at.text] + [m.value for m in at.markdown]
    parts += [c.value for c in at.caption] + [str(d.value) for d in at.dataframe]
    return "\n".join(parts)


def test_shows_workspace_database_and_key_names_never_values(
    workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRET-value-123")
    monkeypatch.setenv("PROMPTYARD_DATABASE_URL", "postgresql://me:hunter2pass@db.local/py")
    (workspace.root / "models.yaml").write_text(
        "models:\n  house:\n    model: openai/gpt-4o-mini\n    api_base: http://127.0.0.1:9/v1\n"
        "    api_key_env: HOUSE_KEY\n"
    )
    at = _app()
    shown = _everything(at)
    assert str(workspace.root) in [c.value for c in at.code]
    assert "postgresql://me:***@db.local/py" in shown
    assert "hunter2pass" not in shown and "sk-test-SECRET" not in shown
    assert "openai" in [t.value for t in at.text][0]
    table = at.dataframe[0].value
    assert list(table["key variable"]) == ["HOUSE_KEY"] and list(table["set"]) == ["missing"]


def test_edit_and_save_rating_schemes_as_a_commit(workspace) -> None:
    before = ratings.scheme_version(workspace)
    assert before is not None  # init committed the default ratings.yaml
    at = _app()
    assert list(at.dataframe[-1].value["name"]) == ["quality", "thumbs", "issues", "comment"]
    edited = at.text_area(key="settings.schemes_text").value + (
        "  - name: tone\n    kind: categorical\n    labels: [formal, casual]\n"
        "    instructions: Which tone does the answer take?\n"
    )
    at.text_area(key="settings.schemes_text").input(edited).run()
    assert "tone" in list(at.dataframe[-1].value["name"])
    at.text_input(key="settings.schemes_message").input("Add a tone scheme").run()
    at.button(key="settings.save").click().run()
    assert not at.exception
    assert "Saved rating schemes as v2" in at.success[0].value
    history = Store(workspace).history("ratings.yaml")
    assert history[-1].message == "Add a tone scheme" and history[-1].sha != before
    assert ratings.get_scheme(workspace, "tone").labels == ("formal", "casual")


def test_bad_schemes_show_where_and_cannot_be_saved(workspace) -> None:
    original = workspace.ratings_file.read_text()
    at = _app()
    at.text_area(key="settings.schemes_text").input(
        "schemes:\n  - name: q\n    kind: numeric\n    min: 5\n    max: 1\n"
    ).run()
    assert (
        "ratings.yaml, line 2, scheme #1 (q): field 'max' (1) must be greater than 'min' (5)"
        in at.error[0].value
    )
    assert at.button(key="settings.save").disabled
    assert workspace.ratings_file.read_text() == original


def test_a_save_by_someone_else_is_a_conflict_not_an_overwrite(workspace) -> None:
    at = _app()
    theirs = ratings.DEFAULT_RATINGS_YAML.replace("max: 5", "max: 10")
    ratings.save_schemes(workspace, theirs, "Someone else widens quality")
    mine = at.text_area(key="settings.schemes_text").value.replace("max: 5", "max: 3")
    at.text_area(key="settings.schemes_text").input(mine).run()
    at.button(key="settings.save").click().run()
    assert "changed since you opened it" in at.error[0].value
    assert ratings.get_scheme(workspace, "quality").max == 10
