"""Sign-in in the app (AppTest): the gate, pages by role, the identity instead of a typed
name, an ended sign-in, and the Rate page's assignments panel."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from promptyard import ratings
from promptyard.team import Identity, PermissionDeniedError, acting_as, set_identity_source
from promptyard.versioning import Store
from promptyard.workspace import Workspace
from tests.ratings_seed import seed_run

APP = Path(__file__).resolve().parent.parent / "app"
MAIN = str(APP / "main.py")
RATE = str(APP / "views" / "rate.py")
TEAM = "members:\n  ada@example.com: admin\n  rae@example.com: rater\n  vi@example.com: viewer\n"
AUTH = """\
[auth]
redirect_uri = "http://127.0.0.1:8501/oauth2callback"
cookie_secret = "a-long-random-test-cookie-secret"
client_id = "promptyard"
client_secret = "test-secret"
server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"
"""


def _signin_on(ws: Workspace) -> None:
    (ws.root / ".streamlit").mkdir(exist_ok=True)
    (ws.root / ".streamlit" / "secrets.toml").write_text(AUTH)
    Store(ws).save("team.yaml", TEAM, "Add the team")


def _main(user: dict[str, Any] | None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=60)
    if user is not None:
        at.user = user
    at.run()
    if page:
        at.switch_page(f"views/{page}").run()
    set_identity_source(None)  # the test process is not a Streamlit session
    assert not at.exception, [e.value for e in at.exception]
    return at


def _person(email: str, **extra: Any) -> dict[str, Any]:
    return {"is_logged_in": True, "email": email, "sub": f"sub-{email}", **extra}


def _texts(at: AppTest) -> str:
    parts = [m.value for m in [*at.markdown, *at.caption, *at.error, *at.warning, *at.info]]
    return "\n".join(str(p) for p in parts)


def test_signed_out_visitors_see_only_the_sign_in(workspace: Workspace) -> None:
    _signin_on(workspace)
    at = _main({"is_logged_in": False})
    assert [b.label for b in at.button] == ["Sign in"]
    assert "Sign in to use this workbench" in [h.value for h in at.subheader]
    assert not at.title or at.title[0].value == "🌱 Promptyard"


def test_a_stranger_is_refused_with_who_they_are(workspace: Workspace) -> None:
    _signin_on(workspace)
    at = _main(_person("mallory@example.com"))
    assert "mallory@example.com is not a member of this workspace's team" in at.error[0].value
    assert [b.label for b in at.button] == ["Sign out"]


def test_a_rater_rates_as_themselves_without_a_name_box(workspace: Workspace) -> None:
    _signin_on(workspace)
    seeded = seed_run(workspace, rows=2)
    session = ratings.open_session(workspace, seeded.run_id, "rate", "quality", 2)
    assert session.id is not None
    ratings.assign_raters(workspace, session.id, ["rae@example.com"])
    at = _main(_person("rae@example.com"), "rate.py")
    assert not [t for t in at.text_input if t.label == "Your name"]
    text = _texts(at)
    assert "Rating as rae@example.com" in text
    signed_in = " ".join(str(c.value) for c in at.sidebar.caption)
    assert signed_in.startswith("Signed in as **rae") and signed_in.endswith("** · rater")
    assert "Raters and progress" not in [e.label for e in at.expander]
    queue = [p for p in at.get("progress") if "Session #" in str(p.proto.text)]
    assert queue and "0 of 4 done" in queue[0].proto.text


def test_a_viewer_is_refused_by_the_library_not_only_the_page(workspace: Workspace) -> None:
    _signin_on(workspace)
    seeded = seed_run(workspace, rows=1)
    at = _main(_person("vi@example.com"), "rate.py")
    at.selectbox(key="rate.scheme").select("quality").run()
    set_identity_source(None)
    assert "rate.start" not in [b.key for b in at.button]  # hidden on the page
    assert "Your role (viewer) may not open labeling sessions." in _texts(at)
    viewer = Identity(subject="sub-vi@example.com", email="vi@example.com")
    with acting_as(viewer), pytest.raises(PermissionDeniedError) as refused:
        ratings.open_session(workspace, seeded.run_id, "rate", "quality", 1)
    assert "vi@example.com is a viewer and may not open labeling sessions" in str(refused.value)


def test_an_ended_sign_in_warns_and_offers_to_sign_in_again(workspace: Workspace) -> None:
    _signin_on(workspace)
    at = _main(_person("ada@example.com", exp=int(time.time()) - 60), "prompts.py")
    assert "Your sign-in has ended" in at.warning[0].value
    assert "Sign in again" in [b.label for b in at.button]


def test_without_sign_in_the_rate_page_assigns_and_shows_progress(workspace: Workspace) -> None:
    seeded = seed_run(workspace, rows=2)
    session = ratings.open_session(workspace, seeded.run_id, "rate", "quality", 2)
    assert session.id is not None
    ratings.rate_cell(workspace, seeded.cell_id(0), "quality", 4, "bo", None, session.id)
    at = AppTest.from_file(RATE, default_timeout=60).run()
    at.text_input(key="assign.raters").input("Ann@Example.com, cy@example.com")
    next(b for b in at.button if b.label == "Assign").click().run()
    assert not at.exception
    assert ratings.session_raters(workspace, session.id) == ["ann@example.com", "cy@example.com"]
    rows = at.dataframe[0].value.to_dict("records")
    assert [(r["rater"], r["assigned"], r["done"]) for r in rows] == [
        ("ann@example.com", "yes", 0),
        ("cy@example.com", "yes", 0),
        ("bo", "no", 1),
    ]


def test_open_in_the_queue_points_the_rate_page_at_the_session(workspace: Workspace) -> None:
    _signin_on(workspace)
    first = seed_run(workspace, rows=1, name="first")
    seed_run(workspace, rows=1, name="newer")
    session = ratings.open_session(workspace, first.run_id, "rate", "thumbs", 1)
    assert session.id is not None
    ratings.assign_raters(workspace, session.id, ["rae@example.com"])
    at = _main(_person("rae@example.com"), "rate.py")
    assert at.selectbox(key="rate.run").value != first.run_id
    at.button(key=f"assign.open::{session.id}").click().run()
    set_identity_source(None)
    assert at.selectbox(key="rate.run").value == first.run_id
    assert at.selectbox(key="rate.scheme").value == "thumbs"
    assert "Session #1 · 1 rater(s) per cell" in _texts(at)
