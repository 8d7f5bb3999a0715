"""Roles in the library: every action under every role, refused in the call itself.

The matrix is what docs/team.md promises; each (action, role) runs in its own workspace,
so a refused action is also checked to have changed nothing where that is visible.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from promptyard import ratings
from promptyard.datasets import SliceSpec, load_dataset, save_dataset
from promptyard.evals import start_scoring
from promptyard.prompts.api import delete_prompt, label_prompt, list_prompts, save_prompt
from promptyard.runs import cancel_run, create_run, plan_run
from promptyard.storage import db
from promptyard.storage.tables import Run
from promptyard.team import (
    Identity,
    PermissionDeniedError,
    Role,
    TeamError,
    acting_as,
    load_team,
    parse_team,
    role_of,
)
from promptyard.versioning import Store
from promptyard.workspace import Workspace
from tests.ratings_seed import seed_run

TEAM = """\
members:
  ada@example.com: admin
  ed@example.com: editor
  rae@example.com: rater
  vi@example.com: viewer
"""
PEOPLE = {
    "admin": Identity("sub-ada", "Ada@Example.com", "Ada"),
    "editor": Identity("sub-ed", "ed@example.com"),
    "rater": Identity("sub-rae", "rae@example.com"),
    "viewer": Identity("sub-vi", "vi@example.com"),
    "stranger": Identity("sub-who", "who@example.com"),
}
ROLES = [*PEOPLE, "signed out"]  # signed out: sign-in off, the local single user


@dataclass
class World:
    ws: Workspace
    run_id: int
    cell_id: int
    rate_session: int  # assigned to the rater
    other_session: int  # assigned to nobody
    pair_session: int  # blind, assigned to the rater


@pytest.fixture
def world(workspace: Workspace) -> World:
    ws = workspace
    Store(ws).save("team.yaml", TEAM, "Add the team")
    seeded = seed_run(ws, rows=3)
    rate = ratings.open_session(ws, seeded.run_id, "rate", "quality", 2)
    other = ratings.open_session(ws, seeded.run_id, "rate", "thumbs", 1)
    pair = ratings.open_session(ws, seeded.run_id, "pairwise", variant_ids=seeded.variant_ids)
    assert rate.id and other.id and pair.id
    for session_id in (rate.id, pair.id):
        ratings.assign_raters(ws, session_id, ["rae@example.com"])
    return World(ws, seeded.run_id, seeded.cell_id(0), rate.id, other.id, pair.id)


def _save_prompt(w: World) -> Any:
    text = (w.ws.root / "prompts" / "summarize.prompty").read_text() + "\nBe brief.\n"
    return save_prompt("summarize", text, "shorter", workspace=w.ws)


def _save_file(path: str) -> Callable[[World], Any]:
    def save(w: World) -> Any:
        target = w.ws.root / path
        old = target.read_text() if target.is_file() else ""
        return Store(w.ws).save(path, old + "\n# touched\n", f"touch {path}")

    return save


def _score_refused_only(w: World) -> Any:
    # Allowed, it would spawn a worker: check the refusal here, the start in the gate's tests.
    from promptyard.team import allowed
    from promptyard.team.policy import Permission

    if allowed(w.ws, Permission.START_RUNS):
        return None
    return start_scoring(w.ws, w.run_id, "summarize")


def _first_pair(w: World) -> ratings.Pair:
    return ratings.make_pairs(w.ws, w.run_id, None, 0)[0]


ACTIONS: dict[str, tuple[Callable[[World], Any], set[str]]] = {
    "save a prompt": (_save_prompt, {"admin", "editor"}),
    "delete a prompt": (
        lambda w: delete_prompt("support_reply", workspace=w.ws),
        {"admin", "editor"},
    ),
    "move a label": (
        lambda w: label_prompt("summarize", "v1", "production", workspace=w.ws),
        {"admin", "editor"},
    ),
    "save a dataset": (
        lambda w: save_dataset(w.ws, "tickets", load_dataset(w.ws, "tickets").rows[:2], "fewer"),
        {"admin", "editor"},
    ),
    "save a suite": (_save_file("evals/smoke.yaml"), {"admin", "editor"}),
    "start a run": (
        lambda w: create_run(
            w.ws,
            plan_run(
                w.ws, [("summarize", None)], ["sim-fast"], ("summaries", None), SliceSpec("head", 2)
            ),
        ),
        {"admin", "editor"},
    ),
    "cancel a run": (lambda w: cancel_run(w.ws, w.run_id), {"admin", "editor"}),
    "score a run": (_score_refused_only, {"admin", "editor"}),
    "open a labeling session": (
        lambda w: ratings.open_session(w.ws, w.run_id, "rate", "issues", 1),
        {"admin", "editor"},
    ),
    "assign raters": (
        lambda w: ratings.assign_raters(w.ws, w.other_session, ["rae@example.com"]),
        {"admin", "editor"},
    ),
    "see raters' progress": (
        lambda w: ratings.rater_progress(w.ws, w.rate_session),
        {"admin", "editor"},
    ),
    "rate in an assigned session": (
        lambda w: ratings.rate_cell(w.ws, w.cell_id, "quality", 4, "typed", None, w.rate_session),
        {"admin", "editor", "rater"},
    ),
    "vote in an assigned blind session": (
        lambda w: ratings.record_vote(w.ws, _first_pair(w), "a", "typed", w.pair_session),
        {"admin", "editor", "rater"},
    ),
    "rate in an unassigned session": (
        lambda w: ratings.rate_cell(
            w.ws, w.cell_id, "thumbs", True, "typed", None, w.other_session
        ),
        {"admin", "editor"},
    ),
    "rate outside a session": (
        lambda w: ratings.rate_cell(w.ws, w.cell_id, "quality", 3, "typed"),
        {"admin", "editor"},
    ),
    "save the models": (_save_file("models.yaml"), {"admin"}),
    "save the rating schemes": (_save_file("ratings.yaml"), {"admin"}),
    "save a setting": (_save_file("gate.yaml"), {"admin"}),
    "save the team": (_save_file("team.yaml"), {"admin"}),
}


def _head(w: World) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=w.ws.root, capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_action_under_each_role(world: World, action: str, role: str) -> None:
    run, allowed_roles = ACTIONS[action]
    who = PEOPLE.get(role)
    may = role == "signed out" or role in allowed_roles
    head = _head(world)
    with acting_as(who):
        if may:
            run(world)
        else:
            with pytest.raises(PermissionDeniedError) as refused:
                run(world)
            message = str(refused.value)
            assert who is not None and who.key in message
            assert ("not a member" in message) if role == "stranger" else (role in message)
            assert _head(world) == head, "a refused action committed something"


def test_a_save_and_a_label_move_record_the_identity_not_a_typed_name(world: World) -> None:
    with acting_as(PEOPLE["editor"]):
        save_prompt(
            "summarize",
            (world.ws.root / "prompts" / "summarize.prompty").read_text() + "\nok\n",
            "edit",
            author="Mallory",
            workspace=world.ws,
        )
        move = label_prompt("summarize", "v1", "staging", who="Mallory", workspace=world.ws)
        rating = ratings.rate_cell(world.ws, world.cell_id, "quality", 5, "Mallory")
    log = subprocess.run(
        ["git", "log", "-2", "--format=%an <%ae>"],
        cwd=world.ws.root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert log == ["ed@example.com <ed@example.com>"] * 2
    assert move.who == "ed@example.com"
    assert rating.rater == "ed@example.com"


def test_a_run_records_who_started_it(world: World) -> None:
    plan = plan_run(
        world.ws, [("summarize", None)], ["sim-fast"], ("summaries", None), SliceSpec("head", 1)
    )
    with acting_as(PEOPLE["admin"]):
        run_id = create_run(world.ws, plan)
    with db.session(world.ws) as s:
        run = s.get(Run, run_id)
    assert run is not None and run.created_by == "ada@example.com"


def test_a_rater_sees_their_queue_and_stays_blind(world: World) -> None:
    ratings.rate_cell(
        world.ws, world.cell_id, "quality", 3, "ed@example.com", None, world.rate_session
    )
    with acting_as(PEOPLE["rater"]):
        queue = ratings.rater_queue(world.ws)
        ratings.rate_cell(world.ws, world.cell_id, "quality", 4, "x", None, world.rate_session)
        ratings.record_vote(world.ws, _first_pair(world), "a", "x", world.pair_session)
        after = ratings.rater_queue(world.ws)
        standings = ratings.pairwise_results(world.ws, world.run_id, world.pair_session)
    assert [(q.session_id, q.done) for q in queue] == [
        (world.pair_session, 0),
        (world.rate_session, 0),
    ]
    assert [(q.session_id, q.done) for q in after] == [
        (world.pair_session, 1),
        (world.rate_session, 1),
    ]
    assert {s.label for s in standings} == {"variant A", "variant B"}
    with acting_as(PEOPLE["editor"]):
        progress = ratings.rater_progress(world.ws, world.rate_session)
        named = ratings.pairwise_results(world.ws, world.run_id, world.pair_session)
    assert [(p.rater, p.assigned, p.done) for p in progress] == [
        ("rae@example.com", True, 1),
        ("ed@example.com", False, 1),
    ]
    assert "variant A" not in {s.label for s in named}


def test_a_role_file_mistake_names_file_and_line_and_keeps_the_last_good_roles(
    world: World,
) -> None:
    with pytest.raises(TeamError, match=r"^team\.yaml:3: unknown role 'boss' for ed@example.com"):
        parse_team("members:\n  ada@example.com: admin\n  ed@example.com: boss\n")
    with pytest.raises(TeamError, match=r"^team\.yaml:2: not valid YAML"):
        parse_team("members:\n\tada@example.com: admin\n")
    (world.ws.root / "team.yaml").write_text(TEAM.replace("editor", "boss"))
    team = load_team(world.ws)
    assert team.warning is not None and team.warning.startswith("team.yaml:3: unknown role 'boss'")
    assert "stay in force" in team.warning
    assert role_of(world.ws, PEOPLE["editor"]) is Role.EDITOR
    with acting_as(PEOPLE["viewer"]), pytest.raises(PermissionDeniedError):
        _save_prompt(world)
    assert [p.name for p in list_prompts(workspace=world.ws)]


def test_an_ended_sign_in_is_refused_with_a_clear_message(world: World) -> None:
    ended = Identity("sub-ed", "ed@example.com", expires_at=1.0)
    head = _head(world)
    with acting_as(ended), pytest.raises(PermissionDeniedError) as refused:
        _save_prompt(world)
    assert str(refused.value).startswith("the sign-in of ed@example.com ended at 00:00 UTC")
    assert "Sign in again" in str(refused.value)
    assert _head(world) == head
