"""Controls hidden by role (AppTest, sign-in on): a viewer and a rater see no button or form
for an action their role may not do, with one caption saying so where a form goes; an
editor sees them. The library refuses the same actions (tests/test_team_*.py)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import state
from streamlit.testing.v1 import AppTest

from promptyard import ratings
from promptyard.team import set_identity_source
from promptyard.traces.filtering import to_ns
from promptyard.versioning import Store
from promptyard.workspace import Workspace
from tests.ratings_seed import seed_run
from tests.test_page_signin import AUTH, MAIN, _person, _texts
from tests.traces_seed import add, llm_span

TEAM = (
    "members:\n  ada@example.com: admin\n  ed@example.com: editor\n"
    "  rae@example.com: rater\n  vi@example.com: viewer\n"
)
VIEWER, RATER, EDITOR = "vi@example.com", "rae@example.com", "ed@example.com"


@pytest.fixture
def team_ws(workspace: Workspace) -> Workspace:
    (workspace.root / ".streamlit").mkdir(exist_ok=True)
    (workspace.root / ".streamlit" / "secrets.toml").write_text(AUTH)
    Store(workspace).save("team.yaml", TEAM, "Add the team")
    return workspace


def _open(email: str, page: str, **session: object) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=60)
    at.user = _person(email)
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(f"views/{page}").run()
    set_identity_source(None)  # the test process is not a Streamlit session
    assert not at.exception, [e.value for e in at.exception]
    return at


def _keys(at: AppTest) -> set[str]:
    return {str(b.key) for b in at.button} | {str(b.key) for b in at.get("button")}


def _labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button] + [e.label for e in at.expander]


def test_prompt_edit_controls_are_for_editors_only(team_ws: Workspace) -> None:
    at = _open(VIEWER, "prompts.py")
    keys = _keys(at)
    assert not {"prompts.save", "prompts.create", "prompts.delete"} & keys
    assert "🏷️ Move label" not in [b.label for b in at.get("form_submit_button")]
    text = _texts(at)
    assert "Your role (viewer) may not edit prompts." in text
    assert "Your role (viewer) may not move labels." in text
    assert at.code and "user:" in at.code[0].value  # the prompt is still there to read
    editor = _open(EDITOR, "prompts.py")
    assert {"prompts.save", "prompts.create", "prompts.delete"} <= _keys(editor)
    assert "🏷️ Move label" in [b.label for b in editor.get("form_submit_button")]
    assert "may not" not in _texts(editor)
    # An ended sign-in keeps the controls (and what was typed); the save is refused then.
    ended = AppTest.from_file(MAIN, default_timeout=60)
    ended.user = _person(EDITOR, exp=int(time.time()) - 60)
    ended.run()
    ended.switch_page("views/prompts.py").run()
    set_identity_source(None)
    assert "prompts.save" in _keys(ended) and "Your sign-in has ended" in _texts(ended)


@pytest.mark.parametrize(
    ("view", "controls"),
    [
        ("rows", {"datasets.save"}),
        ("import", set()),
        ("history", {"datasets.restore", "datasets.set_label"}),
    ],
)
def test_dataset_edit_controls_are_for_editors_only(
    team_ws: Workspace, view: str, controls: set[str]
) -> None:
    at = _open(VIEWER, "datasets.py", **{state.DATASET_VIEW: view})
    keys = _keys(at)
    assert not {"datasets.save", "datasets.import", "datasets.restore", "datasets.set_label"} & keys
    what = {"rows": "edit", "import": "import", "history": "label or restore"}[view]
    assert f"Your role (viewer) may not {what} datasets." in _texts(at)
    if view == "rows":
        assert at.dataframe  # the rows are shown read-only
    assert not at.get("file_uploader")
    editor = _open(EDITOR, "datasets.py", **{state.DATASET_VIEW: view})
    assert controls <= _keys(editor)
    assert bool(editor.get("file_uploader")) == (view == "import")
    assert "may not" not in _texts(editor)


def test_runs_offer_the_new_run_form_to_editors_only(team_ws: Workspace) -> None:
    seed_run(team_ws, rows=1)
    viewer = _open(VIEWER, "runs.py")
    assert "➕ New run" not in _labels(viewer)
    assert "Your role (viewer) may not start runs." in _texts(viewer)
    editor = _open(EDITOR, "runs.py")
    assert "➕ New run" in _labels(editor)


def test_compare_hides_inline_rating_and_scoring_from_a_viewer(team_ws: Workspace) -> None:
    seed_run(team_ws, rows=1)
    viewer = _open(VIEWER, "compare.py")
    assert "Rate inline with" not in [s.label for s in viewer.selectbox]
    assert "Score this run" not in _labels(viewer)
    assert "Your role (viewer) may not rate outside a labeling session." in _texts(viewer)
    editor = _open(EDITOR, "compare.py")
    assert "Rate inline with" in [s.label for s in editor.selectbox]
    assert "Score this run" in _labels(editor)


@pytest.mark.parametrize(("email", "role"), [(VIEWER, "viewer"), (RATER, "rater")])
@pytest.mark.parametrize(
    ("mode", "start"), [("Rate cells", "rate.start"), ("Blind pairs", "rate.pair_start")]
)
def test_starting_a_labeling_session_is_for_editors_only(
    team_ws: Workspace, email: str, role: str, mode: str, start: str
) -> None:
    seed_run(team_ws, rows=1)
    at = _open(email, "rate.py", **{state.RATE_MODE: mode})
    assert not {"rate.start", "rate.pair_start"} & _keys(at)
    assert f"Your role ({role}) may not open labeling sessions." in _texts(at)
    editor = _open(EDITOR, "rate.py", **{state.RATE_MODE: mode})
    assert start in _keys(editor)
    assert "may not" not in _texts(editor)


def test_a_rater_rates_an_assigned_session_but_starts_none(team_ws: Workspace) -> None:
    seeded = seed_run(team_ws, rows=1)
    session = ratings.open_session(team_ws, seeded.run_id, "rate", "quality", 1)
    assert session.id is not None
    ratings.assign_raters(team_ws, session.id, [RATER])
    at = _open(RATER, "rate.py", **{state.RATE_SCHEME: "quality"})
    assert f"Session #{session.id} · 1 rater(s) per cell" in _texts(at)
    assert "Raters and progress" not in [e.label for e in at.expander]
    at = _open(RATER, "rate.py", **{state.RATE_MODE: "Blind pairs"})
    assert "rate.pair_start" not in _keys(at)
    assert "Your role (rater) may not open labeling sessions." in _texts(at)
    editor = _open(EDITOR, "rate.py")
    assert "Raters and progress" in [e.label for e in editor.expander]


def test_traces_offer_add_to_dataset_to_editors_only(team_ws: Workspace) -> None:
    add(team_ws, llm_span(1, start_ns=to_ns(datetime.now(UTC))))
    viewer = _open(VIEWER, "traces.py")
    assert not viewer.get("popover")
    editor = _open(EDITOR, "traces.py")
    assert [p.proto.popover.label for p in editor.get("popover")] == ["➕ Add to a dataset"]


def test_home_leaves_out_the_steps_on_pages_a_viewer_cannot_open(team_ws: Workspace) -> None:
    at = AppTest.from_file(MAIN, default_timeout=60)
    at.user = _person(VIEWER)
    at.run()  # the home page: its link to the hidden Playground stopped it with an error
    set_identity_source(None)
    assert not at.exception, [e.value for e in at.exception]
    steps = " ".join(str(m.value) for m in at.markdown)
    assert "Open a prompt" in steps and "Try it in the playground" not in steps


def _rating_controls(at: AppTest) -> list[str]:
    keys = [k for k in _keys(at) if k.startswith(("rate.key::", "rate.vote_"))]
    return keys + [b.label for b in at.get("form_submit_button")]


@pytest.mark.parametrize(
    ("email", "why"),
    [
        (VIEWER, "Your role (viewer) may not rate."),
        (RATER, "Labeling session #1 is not assigned to you"),
    ],
)
@pytest.mark.parametrize("kind", ["rate", "pairwise"])
def test_rating_controls_are_drawn_only_where_one_may_rate(
    team_ws: Workspace, email: str, why: str, kind: str
) -> None:
    seeded = seed_run(team_ws, rows=2)
    if kind == "rate":
        ratings.open_session(team_ws, seeded.run_id, "rate", "quality", 1)
        session = {state.RATE_SCHEME: "quality"}
    else:
        ratings.open_session(
            team_ws, seeded.run_id, "pairwise", variant_ids=seeded.variant_ids[:2], seed=1
        )
        session = {state.RATE_MODE: "Blind pairs"}
    at = _open(email, "rate.py", **session)
    assert not _rating_controls(at)
    assert why in " ".join(str(c.value) for c in at.caption)
    assert not at.error  # a caption says why, not a red error on opening the page
    editor = _open(EDITOR, "rate.py", **session)
    assert _rating_controls(editor)
    assert "may not" not in _texts(editor)
